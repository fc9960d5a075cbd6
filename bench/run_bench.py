"""What experiment tracking costs an MMEngine training, for each tracking backend, side by side.

    python -m bench.run_bench [--repeats N] [--out bench/results]

Setups (``bench/setups.py``): (a) ``LocalVisBackend`` only, then (a) plus one
tracker: (b1) our ``SwanlabVisBackend`` in local mode, (b2) ours offline,
(c) SwanLab's own ``swanlab.integration.mmengine`` backend in local mode, (c2) offline,
(d) MMEngine's ``TensorboardVisBackend``.

Measurements, each run in a fresh process (SwanLab keeps process-global state)
with its own temporary work dir and SwanLab log dir:

- ``bench/train_child.py``: a real recipe trained on its tiny generated dataset
  through the smoke override (every iteration logged), then the trackers closed:
  wall time and peak RSS, and what a user waits from the last iteration until
  the process has exited (ours waits there until its writer has written everything).
- ``bench/micro_child.py``: 2000 ``add_scalars`` calls of 12 keys, 10
  ``add_image`` calls of a 1333x800 RGB image, as many ``print`` calls of an MMEngine
  log line (what recording the console costs), then ``close()``, each timed on
  the calling thread.
- ``bench/long_child.py``: 20,000 iterations of a cheap step, every one logged:
  the cost per iteration in us, apart from the fixed start and finish.
- A burst, for ours only: the micro run with 100,000 steps and 100 images,
  for the writer process's peak memory.

Every process is also timed from outside, start to exit, imports included, and
then until our writer process has written everything into its log dir (the last
value is on the dashboard), reading the writer's peak memory from /proc meanwhile.

Repeats are interleaved round-robin, the starting setup rotating, so that a
noisy neighbour slows every setup alike; the tables show medians over the
repeats, and ratios against (a) as the median of the per-round ratios.
Children run torch on one thread: on a shared 2-core machine OpenMP's spinning
turns a neighbour's load into stalls of seconds, and the second core stays
free for logging threads, as on a GPU host.

Writes ``<out>/results.md``, ``<out>/results.json`` and ``bench/tracking_cost.png``.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

from bench.setups import SETUPS, Setup, watch_writers
from ci.smoke_matrix import SMOKE_CASES

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

# For our backend (issue 14): ratios against (a), per-call costs on the training thread, close().
# And (issue 22) the whole process from outside, and the wait at the end no longer than SwanLab's own backend's.
# close() now waits until the writer has written everything: no longer than SwanLab's own close + finish.
TARGETS = dict(train_ratio=1.03, loop_ratio=1.02, rss_ratio=1.01, scalars_us=20.0, image_ms=1.0, process_ratio=1.03)
SAME_MODE_OWN = {'b1': 'c', 'b2': 'c2'}
CHILD_TIMEOUT_S = 900


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=4, help='runs of each measurement per setup')
    parser.add_argument('--out', default=os.path.join(BENCH, 'results'), help='folder of results.md/.json')
    parser.add_argument('--plot', default=os.path.join(BENCH, 'tracking_cost.png'))
    parser.add_argument('--recipe', default='resnet18_8xb16_cifar10', choices=[c.name for c in SMOKE_CASES])
    parser.add_argument('--length', type=int, default=2,
                        help='smoke length: epochs, or validation rounds of 3 iterations')
    parser.add_argument('--steps', type=int, default=2000, help='add_scalars calls per micro run')
    parser.add_argument('--images', type=int, default=10, help='add_image calls per micro run')
    parser.add_argument('--long-iters', type=int, default=20000, help='iterations of the long cheap-step run')
    parser.add_argument('--long-repeats', type=int, default=2, help='runs of the long run per setup')
    parser.add_argument('--burst-steps', type=int, default=100000, help='steps of the burst (ours only; 0: none)')
    parser.add_argument('--burst-images', type=int, default=100)
    parser.add_argument('--setups', nargs='+', default=[s.key for s in SETUPS], choices=[s.key for s in SETUPS])
    parser.add_argument('--tmp-dir', default=None, help='where run dirs go (default: the system temp dir); '
                                                        "SwanLab's local mode is sensitive to the disk")
    return parser.parse_args(argv)


# ---- running children ------------------------------------------------------------------------------------


def child_env(setup: Setup, run_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('SWANLAB_')}
    env.update(SWANLAB_LOG_DIR=os.path.join(run_dir, 'swanlog'), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    # The child runs as ``python -m bench.<script>`` in its run dir: the repository on the path for ``bench.*``,
    # ``ci.*`` and the configs' custom_imports.
    env['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, env.get('PYTHONPATH', '')) if p)
    if setup.swanlab_mode:
        env['SWANLAB_MODE'] = setup.swanlab_mode
    return env


def run_child(script: str, setup: Setup, options: List[str], tmp_root: str) -> dict:
    """Runs ``python -m bench.<script>`` for ``setup`` in a fresh run dir; returns its results plus ``process_s``."""
    run_dir = tempfile.mkdtemp(prefix=f'{setup.key}-', dir=tmp_root)
    result_file, log_file = os.path.join(run_dir, 'result.json'), os.path.join(run_dir, 'child.log')
    command = [sys.executable, '-m', f'bench.{script}', setup.key, '--result', result_file,
               '--work-dir', os.path.join(run_dir, 'work')] + options
    started = time.perf_counter()
    with open(log_file, 'w') as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=child_env(setup, run_dir),
                               cwd=run_dir, timeout=CHILD_TIMEOUT_S)
    process_s, exited_wall = time.perf_counter() - started, time.time()
    written = watch_writers(run_dir)  # before the run dir goes: the writer may still be writing into it
    if code != 0:
        with open(log_file) as log:
            tail = log.read()[-3000:]
        raise RuntimeError(f'{script} {setup.key} failed with exit code {code}:\n{tail}')
    with open(result_file) as f:
        result = json.load(f)
    shutil.rmtree(run_dir, ignore_errors=True)
    if 'last_iter_wall' in result:
        result['exit_wait_s'] = exited_wall - result['last_iter_wall']
    return dict(result, process_s=process_s, dashboard_s=process_s + written['written_after_exit_s'], **written)


def make_dataset(dataset: str, tmp_root: str) -> str:
    out = os.path.join(tmp_root, 'data', dataset)
    subprocess.run([sys.executable, os.path.join(ROOT, 'ci', 'tiny_datasets.py'), dataset, '--out', out],
                   check=True, capture_output=True, cwd=ROOT)
    return out


def rotations(setups: List[Setup], repeats: int):
    """Round-robin over the setups, each round starting one setup later."""
    for round_index in range(repeats):
        start = round_index % len(setups)
        yield from setups[start:] + setups[:start]


def run_all(args, setups: List[Setup], tmp_root: str) -> Dict[str, Dict[str, list]]:
    case = next(c for c in SMOKE_CASES if c.name == args.recipe)
    data_root = make_dataset(case.dataset, tmp_root)
    train_options = ['--recipe', os.path.join(ROOT, case.config), '--data-root', data_root,
                     '--length', str(args.length)]
    micro_options = ['--steps', str(args.steps), '--images', str(args.images), '--prints', str(args.steps)]
    raw = {s.key: dict(train=[], micro=[], long=[], burst=[]) for s in setups}
    kinds = [('train', 'train_child', train_options, setups, args.repeats),
             ('micro', 'micro_child', micro_options, setups, args.repeats),
             ('long', 'long_child', ['--iters', str(args.long_iters)], setups, args.long_repeats)]
    if args.burst_steps:
        kinds.append(('burst', 'micro_child', ['--steps', str(args.burst_steps), '--images', str(args.burst_images)],
                      [s for s in setups if s.tracker == 'ours'], 1))
    for kind, script, options, kind_setups, repeats in kinds:
        for setup in rotations(kind_setups, repeats):
            result = run_child(script, setup, options, tmp_root)
            raw[setup.key][kind].append(reduce_micro(result) if script == 'micro_child' else result)
            print(f'  {kind:5s} {setup.key:3s} {result["process_s"]:6.1f} s, on the dashboard after '
                  f'{result["dashboard_s"]:6.1f} s', flush=True)
    return raw


# ---- summarising -----------------------------------------------------------------------------------------


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def call_stats(per_backend_ns: List[List[int]]) -> dict:
    """Statistics of the tracker's calls (listed last; for (a), LocalVisBackend) and of the total the
    Visualizer pays per call, its backends in turn."""
    tracker = per_backend_ns[-1]
    totals = [sum(calls) for calls in zip(*per_backend_ns)]
    return dict(median_ns=statistics.median(tracker), p95_ns=percentile(tracker, 0.95), max_ns=max(tracker),
                all_backends_median_ns=statistics.median(totals))


def reduce_micro(result: dict) -> dict:
    """One micro run, kept as statistics rather than every call's time."""
    close_s = result['close_s'][-1] + (result['swanlab_finish_s'] or 0.0)
    return dict(tracker=result['backends'][-1], init_s=result['init_s'][-1],
                scalars=call_stats(result['scalars_ns']), images=call_stats(result['image_ns']),
                print_median_ns=statistics.median(result['print_ns']),
                tracker_close_s=result['close_s'][-1], swanlab_finish_s=result['swanlab_finish_s'],
                close_s=close_s, max_rss_mb=result['max_rss_mb'], process_s=result['process_s'],
                dashboard_s=result['dashboard_s'], writer_peak_rss_mb=result['writer_peak_rss_mb'])


def median_of(runs: List[dict], read) -> float:
    return statistics.median(read(run) for run in runs)


def other_threads_cpu_s(train_run: dict) -> float:
    return sum(cpu for name, cpu in train_run['loop_thread_cpu_s'].items() if name != 'MainThread')


def busiest_other_thread(train_runs: List[dict]) -> str:
    """The background thread that used the most CPU during the training loops, summed over the runs."""
    totals: Dict[str, float] = {}
    for run in train_runs:
        for name, cpu in run['loop_thread_cpu_s'].items():
            if name != 'MainThread':
                totals[name] = totals.get(name, 0.0) + cpu
    return max(totals, key=totals.get) if totals else '-'


# Metrics shown as ratios against (a): (runs they come from, how to read one run, label in the plot).
RATIO_METRICS = {
    'train_s': ('train', lambda r: r['train_s'], 'train time'),
    'loop_s': ('train', lambda r: r['loop_s'], 'training loop'),
    'process_s': ('train', lambda r: r['process_s'], 'whole process'),
    'max_rss_mb': ('train', lambda r: r['max_rss_mb'], 'peak RSS'),
    'scalars_step_us': ('micro', lambda r: r['scalars']['all_backends_median_ns'] / 1e3, 'add_scalars / step'),
    'image_step_ms': ('micro', lambda r: r['images']['all_backends_median_ns'] / 1e6, 'add_image / call'),
}


def summarise(setup: Setup, runs: Dict[str, list]) -> dict:
    """Medians over the repeats. For (c), close is its close() (a no-op) plus swanlab.finish()."""
    train, micro = runs['train'], runs['micro']
    row = dict(label=setup.label, tracker=micro[0]['tracker'], iters=train[0]['iters'])
    row.update({metric: median_of(runs[kind], read) for metric, (kind, read, _) in RATIO_METRICS.items()})
    row.update(
        build_s=median_of(train, lambda r: r['build_s']),
        loop_main_cpu_s=median_of(train, lambda r: r['loop_thread_cpu_s'].get('MainThread', 0.0)),
        loop_other_cpu_s=median_of(train, other_threads_cpu_s),
        loop_busiest_other=busiest_other_thread(train),
        train_finish_s=median_of(train, lambda r: r['finish_s']),
        train_process_s=median_of(train, lambda r: r['process_s']),
        exit_wait_s=median_of(train, lambda r: r['exit_wait_s']),
        scalars_us=median_of(micro, lambda r: r['scalars']['median_ns'] / 1e3),
        scalars_p95_us=median_of(micro, lambda r: r['scalars']['p95_ns'] / 1e3),
        image_ms=median_of(micro, lambda r: r['images']['median_ns'] / 1e6),
        image_max_ms=median_of(micro, lambda r: r['images']['max_ns'] / 1e6),
        print_us=median_of(micro, lambda r: r['print_median_ns'] / 1e3),
        close_s=median_of(micro, lambda r: r['close_s']),
        close_runs_s=[round(r['close_s'], 1) for r in micro],
        loop_runs_s=[round(r['loop_s'], 2) for r in train],
        train_dashboard_s=median_of(train, lambda r: r['dashboard_s']),
        micro_dashboard_s=median_of(micro, lambda r: r['dashboard_s']),
        long_iters=runs['long'][0]['iters'] if runs['long'] else None,
        long_loop_s=median_of(runs['long'], lambda r: r['loop_s']) if runs['long'] else None,
        long_process_s=median_of(runs['long'], lambda r: r['process_s']) if runs['long'] else None,
        long_dashboard_s=median_of(runs['long'], lambda r: r['dashboard_s']) if runs['long'] else None,
        burst=runs['burst'][0] if runs['burst'] else None,
    )
    return row


def per_iteration_us(raw: Dict[str, Dict[str, list]], key: str, baseline: str = 'a') -> Optional[float]:
    """The long run: median over the rounds of (loop time - (a)'s loop time) / iterations, in us."""
    if baseline not in raw or not raw[key]['long']:
        return None
    return statistics.median((run['loop_s'] - base['loop_s']) / run['iters'] * 1e6
                             for run, base in zip(raw[key]['long'], raw[baseline]['long']))


def paired_ratios(raw: Dict[str, Dict[str, list]], key: str, baseline: str = 'a') -> Dict[str, float]:
    """Median over the rounds of this setup's value divided by (a)'s from the same round: runs of one
    round are minutes apart at most, so they share the machine's load of the moment."""
    if baseline not in raw:
        return {}
    return {metric: statistics.median(read(run) / read(base)
                                      for run, base in zip(raw[key][kind], raw[baseline][kind]))
            for metric, (kind, read, _) in RATIO_METRICS.items()}


def loop_noise(summary: Dict[str, dict]) -> Optional[float]:
    """Half the spread of (a)'s own loop times over its median: loop ratios closer to 1 than this are noise."""
    runs = summary['a']['loop_runs_s'] if 'a' in summary else []
    if len(runs) < 2:
        return None
    return (max(runs) - min(runs)) / 2 / statistics.median(runs)


def noise_note(summary: Dict[str, dict]) -> str:
    noise = loop_noise(summary)
    if noise is None:
        return ''
    runs = summary['a']['loop_runs_s']
    return (f'Noise: the loop of (a) alone took {min(runs):.2f} to {max(runs):.2f} s over its {len(runs)} runs '
            f'(+/-{noise:.1%}); loop ratios within that of 1 are not a measured cost.')


def target_verdicts(summary: Dict[str, dict]) -> List[str]:
    noise = loop_noise(summary)
    lines = []
    for key in ('b1', 'b2'):
        row = summary.get(key)
        if not row:
            continue
        checks = [
            ('train time', row['ratios'].get('train_s'), TARGETS['train_ratio'], '{:.3f}x', '<= {}x', None),
            ('training loop alone (no start/finish)', row['ratios'].get('loop_s'), TARGETS['loop_ratio'],
             '{:.3f}x', '<= {}x', noise),
            ('peak RSS of the training process', row['ratios'].get('max_rss_mb'), TARGETS['rss_ratio'],
             '{:.3f}x', '<= {}x', None),
            ('add_scalars, calling thread', row['scalars_us'], TARGETS['scalars_us'], '{:.1f} us', '<= {} us', None),
            ('add_image, calling thread', row['image_ms'], TARGETS['image_ms'], '{:.2f} ms', '<= {} ms', None),
            ('whole training process, from outside', row['ratios'].get('process_s'), TARGETS['process_ratio'],
             '{:.3f}x', '<= {}x', None),
        ]
        own = summary.get(SAME_MODE_OWN[key])
        if own:
            against = f"against ({SAME_MODE_OWN[key]}) SwanLab's own in the same mode"
            checks += [(f'last iteration to exit, {against}', row['exit_wait_s'], round(own['exit_wait_s'], 2),
                        '{:.2f} s', '<= {} s', None),
                       (f'print() with the console recorded, {against}', row['print_us'], round(own['print_us'], 2),
                        '{:.2f} us', '<= {} us', None),
                       (f'close() after the micro run, all written, {against} (close + finish)', row['close_s'],
                        round(own['close_s'], 2), '{:.2f} s', '<= {} s', None)]
        for name, value, limit, shown, wanted, ratio_noise in checks:
            if value is None:
                continue
            verdict = 'met' if value <= limit else 'MISSED'
            if verdict == 'MISSED' and ratio_noise is not None and value - 1 <= ratio_noise:
                verdict = f'MISSED on the median, within the noise (+/-{ratio_noise:.1%})'
            lines.append(f'({key}) {name}: {shown.format(value)}, target {wanted.format(limit)}: {verdict}')
    return lines


# ---- reporting -------------------------------------------------------------------------------------------


def ratio(row: dict, key: str) -> str:
    value = row['ratios'].get(key)
    return f' ({value:.3f}x)' if value is not None else ''


def tables(summary: Dict[str, dict], args) -> str:
    train = ['| setup | train s | build s | loop s | loop s (runs) | '
             'loop CPU s: training thread / others (busiest) | finish s | peak RSS MB | process s |',
             '|---|---|---|---|---|---|---|---|---|']
    micro = ['| setup | tracker | add_scalars us median / p95 | all backends us/step | '
             'add_image ms median / max | all backends ms/image | print() us median | close s (runs) |',
             '|---|---|---|---|---|---|---|---|']
    for key, row in summary.items():
        name = f'({key}) {row["label"]}'
        train.append(f'| {name} | {row["train_s"]:.2f}{ratio(row, "train_s")} | {row["build_s"]:.2f} | '
                     f'{row["loop_s"]:.2f}{ratio(row, "loop_s")} | {", ".join(map(str, row["loop_runs_s"]))} | '
                     f'{row["loop_main_cpu_s"]:.2f} / '
                     f'{row["loop_other_cpu_s"]:.2f} ({row["loop_busiest_other"]}) | {row["train_finish_s"]:.2f} | '
                     f'{row["max_rss_mb"]:.0f}{ratio(row, "max_rss_mb")} | {row["train_process_s"]:.1f} |')
        micro.append(f'| {name} | {row["tracker"]} | {row["scalars_us"]:.1f} / {row["scalars_p95_us"]:.1f} | '
                     f'{row["scalars_step_us"]:.1f}{ratio(row, "scalars_step_us")} | '
                     f'{row["image_ms"]:.2f} / {row["image_max_ms"]:.2f} | '
                     f'{row["image_step_ms"]:.2f}{ratio(row, "image_step_ms")} | {row["print_us"]:.2f} | '
                     f'{row["close_s"]:.2f} ({", ".join(map(str, row["close_runs_s"]))}) |')
    long = ['| setup | loop s | cost per iteration us | whole process s | on the dashboard after s |',
            '|---|---|---|---|---|']
    burst = ['| setup | close s | whole process s | on the dashboard after s | writer peak RSS MB | '
             'training peak RSS MB |', '|---|---|---|---|---|---|']
    for key, row in summary.items():
        if row['long_loop_s'] is not None:
            per_iter = row['per_iteration_us']
            long.append(f'| ({key}) {row["label"]} | {row["long_loop_s"]:.2f} | '
                        f'{"-" if per_iter is None else f"{per_iter:+.1f}"} | {row["long_process_s"]:.1f} | '
                        f'{row["long_dashboard_s"]:.1f} |')
        if row['burst']:
            b = row['burst']
            burst.append(f'| ({key}) {row["label"]} | {b["close_s"]:.2f} | {b["process_s"]:.1f} | '
                         f'{b["dashboard_s"]:.1f} | {b["writer_peak_rss_mb"] or 0:.0f} | {b["max_rss_mb"]:.0f} |')
    iters = next(iter(summary.values()))['iters']
    long_iters = next(iter(summary.values()))['long_iters']
    return '\n'.join([
        f'Training: {args.recipe} on its tiny dataset, {iters} iterations, every one logged; '
        f'median of {args.repeats} runs; (ratio) = median over the rounds of value / (a)\'s value in that round.',
        '', *train, '',
        f'Per call, on the calling thread: {args.steps} add_scalars calls of 12 keys, {args.images} add_image '
        f'calls of a 1333x800x3 uint8 image, {args.steps} print() calls of an MMEngine log line, then close(); '
        f'median of {args.repeats} runs.', '', *micro, '',
        'Whole training, from outside: process start to exit (imports included), and until the last value is '
        'on the dashboard (ours: its writer process done): '
        + ', '.join(f'({k}) {r["train_process_s"]:.1f} / {r["train_dashboard_s"]:.1f} s' for k, r in summary.items())
        + '.', '',
        'What a user waits from the last training iteration until the process has exited (the run is then '
        'complete; with ours, its writer process is done): '
        + ', '.join(f'({k}) {r["exit_wait_s"]:.2f} s' for k, r in summary.items()) + '.', '',
        *([f'Long run: {long_iters} iterations of a cheap step, every one logged; median of {args.long_repeats} '
           f'runs; cost per iteration = (loop - loop of (a)) / iterations, paired by round.', '', *long, '']
          if long_iters else []),
        *([f'Burst: {args.burst_steps} add_scalars calls of 12 keys and {args.burst_images} images, then close(); '
           'the writer process\'s peak memory read from /proc while it works.', '', *burst] if len(burst) > 2 else [])])


def write_plot(summary: Dict[str, dict], steps: int, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    keys = list(summary)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw=dict(width_ratios=[3, 1]))
    width = 0.8 / len(keys)
    for index, key in enumerate(keys):
        values = [summary[key]['ratios'].get(metric, float('nan')) for metric in RATIO_METRICS]
        positions = [m + (index - (len(keys) - 1) / 2) * width for m in range(len(RATIO_METRICS))]
        bars = left.bar(positions, values, width, label=f'({key}) {summary[key]["label"]}')
        left.bar_label(bars, fmt='%.2f', fontsize=7, rotation=90, padding=2)
    left.axhline(1.0, color='black', linewidth=0.8)
    left.set_yscale('log')
    left.set_xticks(range(len(RATIO_METRICS)), [label for _, _, label in RATIO_METRICS.values()])
    left.set_ylabel('ratio against (a), log scale')
    left.set_title('Cost relative to LocalVisBackend only')
    left.legend(fontsize=8)
    bars = right.bar([f'({k})' for k in keys], [summary[k]['close_s'] for k in keys],
                     color=[f'C{i}' for i in range(len(keys))])
    right.bar_label(bars, fmt='%.1f', fontsize=8)
    right.set_ylabel('seconds')
    right.set_title(f'close() after {steps} steps, all written (c: + swanlab.finish)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def machine() -> dict:
    import importlib.metadata as metadata
    versions = {name: metadata.version(name) for name in ('mmengine', 'swanlab', 'torch', 'tensorboard')}
    return dict(python=platform.python_version(), cpus=os.cpu_count(), load_avg=os.getloadavg(), **versions)


def report(summary: Dict[str, dict], args, info: dict) -> str:
    load_before, load_after = info['load_avg_before'][0], info['load_avg'][0]
    header = (f'`{info["command"]}`: {info["runtime_s"] / 60:.1f} min on {info["cpus"]} CPUs, load average '
              f'{load_before:.1f} before / {load_after:.1f} after; Python {info["python"]}, '
              f'mmengine {info["mmengine"]}, swanlab {info["swanlab"]}, torch {info["torch"]}.')
    verdicts = [f'- {line}' for line in target_verdicts(summary)]
    return '\n'.join([header, '', tables(summary, args), '', noise_note(summary), '', 'Targets for ours:', '',
                      *verdicts, ''])


def main(argv=None) -> int:
    args = parse_args(argv)
    setups = [s for s in SETUPS if s.key in args.setups]
    command = ' '.join(['python -m bench.run_bench'] + (sys.argv[1:] if argv is None else list(argv)))
    started, load_before = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix='tracking-bench-', dir=args.tmp_dir) as tmp_root:
        raw = run_all(args, setups, tmp_root)
    info = dict(machine(), command=command, load_avg_before=load_before, runtime_s=time.perf_counter() - started)
    summary = {s.key: dict(summarise(s, raw[s.key]), ratios=paired_ratios(raw, s.key),
                           per_iteration_us=per_iteration_us(raw, s.key)) for s in setups}
    text = report(summary, args, info)
    print('\n' + text)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'results.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(dict(machine=info, targets=TARGETS, summary=summary, verdicts=target_verdicts(summary),
                       raw=raw), f, indent=1)
    write_plot(summary, args.steps, args.plot)
    print(f'wrote {args.out}/results.md, results.json and {args.plot}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
