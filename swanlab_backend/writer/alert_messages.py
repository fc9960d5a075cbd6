"""Writer side: the words of each alert, in one place (what the README's Alerts section shows)."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple


class Alert(NamedTuple):
    kind: str  # nan, stall, new_best, crashed, aborted, finished: the chart is alerts/<kind>
    title: str
    text: str
    deliver: bool = True  # False: only into the run and the console
    good_news: bool = False  # printed as information, not as a warning


def _number(value: float) -> str:
    return f'{value:.6g}'


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours} h {minutes:02d} min' if hours else f'{minutes} min {secs:02d} s' if minutes else f'{secs} s'


def non_finite(run: str, losses: Dict[str, float], step: int) -> Alert:
    which = ', '.join(f'{key} = {value}' for key, value in losses.items())
    return Alert('nan', f'{run}: non-finite loss at iteration {step}',
                 f'{which} at iteration {step} (the first non-finite value of each; later ones are not alerted '
                 'again). The curves skip these points. Lower the learning rate, check the data, or clip the '
                 'gradients (optim_wrapper=dict(clip_grad=...)).')


def stall(run: str, idle_s: float, phase: Optional[str], done: int, limit_s: float, why_limit: str,
          pid: Optional[int]) -> Alert:
    where = f'the last finished iteration was {phase} iteration {done}' if phase else 'no iteration has finished yet'
    look = f' Look at where it waits: py-spy dump --pid {pid}.' if pid else ''
    return Alert('stall', f'{run}: no progress for {_duration(idle_s)}',
                 f'No training, validation or test iteration for {_duration(idle_s)} ({where}), while the '
                 f'training process is alive: a hung dataloader worker or collective (NCCL)? The limit is '
                 f'{_duration(limit_s)} ({why_limit}).{look}')


def new_best(run: str, metric: str, value: float, before: float, step: int) -> Alert:
    return Alert('new_best', f'{run}: new best {metric} = {_number(value)}',
                 f'{metric} = {_number(value)} at iteration {step} (the best was {_number(before)}).', good_news=True)


def ended_badly(run: str, state: str, error: Optional[str], console: Sequence[str], step: int) -> Alert:
    error_lines = [line for line in (error or '').strip().splitlines() if line.strip()]
    shown_error = error_lines[-6:] or ['(no exception was handed over)']
    seen = set(error_lines)
    last = [line for line in console if line not in seen][-15:]
    what = 'was aborted' if state == 'aborted' else 'crashed'
    text = f'The run {what} after iteration {step}.\n\nException:\n' + '\n'.join(shown_error)
    if last:
        text += '\n\nLast console lines:\n' + '\n'.join(last)
    return Alert(state, f'{run}: the run {what}', text)


def finished(run: str, state: str, wall_s: float, counts: Dict[str, int], val: Tuple[Optional[int], dict],
             test: dict, best: Dict[str, Tuple[float, Optional[float]]], best_checkpoint: Optional[str],
             where: str, deliver: bool) -> Alert:
    lines: List[str] = [f'State: {state}', f'Wall time: {_duration(wall_s)}']
    if counts:
        lines.append('Iterations: ' + ', '.join(f'{phase} {n}' for phase, n in sorted(counts.items())))
    step, metrics = val
    lines.append(f'Final validation (iteration {step}): {_metrics(metrics)}' if metrics
                 else 'Final validation: none ran')
    lines.append(f'Test: {_metrics(test)}' if test else 'Test: none ran')
    for metric, (value, at) in sorted(best.items()):
        lines.append(f'Best {metric} = {_number(value)}' + (f' at iteration {int(at)}' if at is not None else ''))
    lines.append(f'Best checkpoint: {best_checkpoint}' if best_checkpoint
                 else 'Best checkpoint: none (CheckpointHook save_best is not set)')
    lines.append(f'Run: {where}')
    return Alert('finished', f'{run}: finished ({state})', '\n'.join(lines), deliver, good_news=state == 'success')


def _metrics(metrics: dict) -> str:
    return ', '.join(f'{key} = {_number(value)}' for key, value in sorted(metrics.items()))


def not_sent(text: str, skipped: int, per_hour: int) -> str:
    """``text`` of the next alert sent after the rate limit held ``skipped`` back."""
    return f'{text}\n\n({skipped} earlier alert(s) were not sent: at most {per_hour} an hour; the run has them all.)'
