"""What a run saved and reached: the checkpoint ledger and the best value of each validation metric.

Each time MMEngine's ``CheckpointHook`` saves (periodic, ``save_best``, last), the ledger
gets an entry: file, iteration and epoch, size, sha256, the validation metrics it was
saved after, whether it is the best so far, and whether it is still on disk
(``max_keep_ckpts`` removes old ones). At every validation each metric whose direction
is known (the hook's ``rule`` for its ``save_best`` keys, else MMEngine's own name rules:
``acc``, ``mAP``, ``mIoU``... greater, ``loss`` less) gets ``best/<metric>`` and
``best/<metric>_iter``. Both are kept in ``<work_dir>/swanlab_checkpoints.json``, so a
``--resume`` continues them; the ledger is shown as the text ``checkpoints/ledger``.
"""
import hashlib
import json
import logging
import numbers
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence

from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from .. import media
from .metrics import not_a_measurement

LEDGER_FILE = 'swanlab_checkpoints.json'
TESTED_CHECKPOINT = 'swanlab_tested_checkpoint'  # message hub key: the checkpoint a runner.test() evaluates


def metric_rule(key: str, hook: Any) -> Optional[str]:
    """``'greater'``, ``'less'`` or None (unknown: no best is kept) for a validation metric."""
    indicators = list(getattr(hook, 'key_indicators', None) or [])
    rules = list(getattr(hook, 'rules', None) or [])
    if key in indicators and len(rules) == len(indicators) and rules[indicators.index(key)]:
        return rules[indicators.index(key)]
    lower = key.lower()
    greater = [k.lower() for k in getattr(hook, 'greater_keys', CheckpointHook._default_greater_keys)]
    less = [k.lower() for k in getattr(hook, 'less_keys', CheckpointHook._default_less_keys)]
    if lower in greater or any(k in lower for k in greater):
        return 'greater'
    if lower in less or any(k in lower for k in less):
        return 'less'
    return None


def update_best(best: Dict[str, Dict[str, Any]], metrics: Dict[str, float], iteration: int,
                hook: Any) -> Dict[str, float]:
    """Updates ``best`` (``{metric: {value, iter, rule}}``) with one validation; returns ``best/*`` scalars."""
    scalars = {}
    for key, value in plain_numbers(metrics).items():
        rule = metric_rule(key, hook)
        if rule is None or not_a_measurement(key, value):
            continue
        known = best.get(key)
        if known is None or (value > known['value'] if rule == 'greater' else value < known['value']):
            best[key] = dict(value=float(value), iter=int(iteration), rule=rule)
        scalars[f'best/{key}'] = best[key]['value']
        scalars[f'best/{key}_iter'] = float(best[key]['iter'])
    return scalars


def plain_numbers(metrics: Dict[str, Any]) -> Dict[str, float]:
    """The numeric metrics as Python floats: mmseg's are numpy float32, which JSON cannot write."""
    return {k: float(v) for k, v in metrics.items() if isinstance(v, numbers.Real) and not isinstance(v, bool)}


def checkpoint_hook(runner: Any) -> Any:
    """The runner's ``CheckpointHook`` (or a subclass of it), if it has one."""
    return next((hook for hook in getattr(runner, 'hooks', []) if isinstance(hook, CheckpointHook)), None)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


class CheckpointLedger:
    """The ledger and best values of one work dir (see the module docstring)."""

    def __init__(self, work_dir: str):
        self.path = osp.join(work_dir, LEDGER_FILE)
        state = self._load()
        self.entries: List[Dict[str, Any]] = state.get('checkpoints', [])
        self.best: Dict[str, Dict[str, Any]] = state.get('best', {})
        self.last_metrics: Dict[str, float] = state.get('last_metrics', {})
        # (size, mtime) of each file as last seen: CheckpointHook saves the last checkpoint again when a
        # validation brings a new best (to store the best score in it), and the ledger follows.
        self._seen = {entry['file']: tuple(entry.get('stat', ())) for entry in self.entries}

    def _load(self) -> dict:
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def validated(self, metrics: Dict[str, float], iteration: int, hook: Any) -> Dict[str, float]:
        """Updates the best values with one validation; returns the ``best/*`` scalars to log."""
        self.last_metrics = plain_numbers(metrics)
        return update_best(self.best, self.last_metrics, iteration, hook)

    def saved_now(self, runner: Any) -> List[str]:
        """Checkpoint files the hook points at that were written since the last call (new, or saved again)."""
        hook = checkpoint_hook(runner)
        if hook is None:
            return []
        candidates = [getattr(hook, 'last_ckpt', None), getattr(hook, 'best_ckpt_path', None)]
        candidates += list((getattr(hook, 'best_ckpt_path_dict', None) or {}).values())
        written = []
        for path in dict.fromkeys(str(p) for p in candidates if p):
            try:
                stat = os.stat(path)
            except OSError:
                continue
            if self._seen.get(path) != (stat.st_size, stat.st_mtime_ns):
                self._seen[path] = (stat.st_size, stat.st_mtime_ns)
                written.append(path)
        return written

    def record(self, path: str, iteration: int, epoch: int, hook: Any) -> Dict[str, Any]:
        """Adds ``path`` (just saved) to the ledger; computes its size and sha256 (call it off the training
        thread: a checkpoint is hundreds of MB)."""
        best_paths = {getattr(hook, 'best_ckpt_path', None)}
        best_paths.update((getattr(hook, 'best_ckpt_path_dict', None) or {}).values())
        stat = os.stat(path)
        entry = dict(file=path, name=osp.basename(path), iter=int(iteration), epoch=int(epoch), size=stat.st_size,
                     sha256=sha256(path), stat=[stat.st_size, stat.st_mtime_ns], metrics=dict(self.last_metrics),
                     best=path in best_paths)
        if entry['best']:
            for other in self.entries:
                other['best'] = False
        previous = next((e for e in self.entries if e['file'] == path), None)
        if previous is None:
            self.entries.append(entry)
        else:  # saved again: same file, same step, newer content
            previous.update(size=entry['size'], sha256=entry['sha256'], stat=entry['stat'],
                            best=entry['best'] or previous['best'])
            entry = previous
        return entry

    def tested(self, path: str, metrics: Dict[str, float]) -> bool:
        """Links test metrics to the ledger entry of the checkpoint they were computed with."""
        entry = next((e for e in self.entries if e['file'] == path), None)
        if entry is not None:
            entry['test'] = plain_numbers(metrics)
        return entry is not None

    def save(self) -> None:
        for entry in self.entries:
            entry['on_disk'] = osp.isfile(entry['file'])
        with open(self.path + '.tmp', 'w') as f:
            json.dump(dict(checkpoints=self.entries, best=self.best, last_metrics=self.last_metrics), f, indent=1)
        os.replace(self.path + '.tmp', self.path)

    def table(self) -> str:
        """The ledger as a fixed-width text table (the local dashboard shows text, not tables)."""
        header = f'{"checkpoint":<40} {"iter":>7} {"epoch":>5} {"MB":>9} {"best":>4} {"on disk":>7}  sha256 / metrics'
        lines = [header, '-' * len(header)]
        for entry in self.entries:
            metrics = ', '.join(f'{k}={v:.4g}' for k, v in entry['metrics'].items() if isinstance(v, (int, float)))
            metrics += ''.join(f', test {k}={v:.4g}' for k, v in entry.get('test', {}).items())
            lines.append(f'{entry["name"][:40]:<40} {entry["iter"]:>7} {entry["epoch"]:>5} '
                         f'{entry["size"] / 2 ** 20:>9.2f} {"*" if entry["best"] else "":>4} '
                         f'{"yes" if entry.get("on_disk", True) else "no":>7}  {entry["sha256"][:16]} {metrics}')
        return '\n'.join(lines)


class RunLedger:
    """A :class:`CheckpointLedger` kept for one SwanLab run: what the training thread sees is a stat of
    the newest checkpoint; hashing, writing the JSON and logging go through ``submit`` (the backend's
    writer thread)."""

    def __init__(self, work_dir: str, run: Any, submit: Callable, upload: Sequence[str] = (),
                 max_upload_mb: float = 1024.0):
        self.ledger = CheckpointLedger(work_dir)
        self._run, self._submit = run, submit
        self._upload, self._max_upload_mb = set(upload), max_upload_mb

    def validated(self, runner: Any, metrics: Dict[str, float], iteration: int) -> None:
        """``best/<metric>`` and ``best/<metric>_iter`` after a validation at ``iteration``."""
        best = self.ledger.validated(metrics, iteration, checkpoint_hook(runner))
        if best:
            self._submit(self._run.log, best, step=iteration)

    def saved(self, runner: Any, iteration: int, epoch: int) -> None:
        """Adds what the runner's CheckpointHook wrote since the last call."""
        hook = checkpoint_hook(runner)
        for path in self.ledger.saved_now(runner):
            self._submit(self._record, path, iteration, epoch, hook)

    def tested(self, runner: Any, metrics: Dict[str, float], iteration: int) -> None:
        """Test metrics of the checkpoint ``swanlab_backend.train`` loaded (``TESTED_CHECKPOINT``): into its entry."""
        path = runner.message_hub.get_info(TESTED_CHECKPOINT)
        if path:
            self._submit(self._link_test, path, dict(metrics), iteration)

    def training_ended(self, runner: Any) -> None:
        last = getattr(checkpoint_hook(runner), 'last_ckpt', None)
        if 'last' in self._upload and last:
            self._submit(self._upload_file, str(last))

    def _record(self, path: str, iteration: int, epoch: int, hook: Any) -> None:
        entry = self.ledger.record(path, iteration, epoch, hook)
        self._send(iteration, entry['name'])
        if entry['best'] and 'best' in self._upload:
            self._upload_file(path)

    def _link_test(self, path: str, metrics: Dict[str, float], iteration: int) -> None:
        if self.ledger.tested(path, metrics):
            self._send(iteration, 'tested')

    def _send(self, step: int, caption: str) -> None:
        self.ledger.save()
        self._run.log({'checkpoints/ledger': media.text(self.ledger.table(), caption=caption)}, step=step)

    def _upload_file(self, path: str) -> None:
        size_mb = os.path.getsize(path) / 2 ** 20
        if size_mb > self._max_upload_mb:
            print_log(f'SwanLab: not uploading {path}: {size_mb:.3g} MB is over max_upload_mb={self._max_upload_mb:g} '
                      '(it stays in the work dir and the ledger)', logger='current', level=logging.WARNING)
            return
        self._run.save(path, base_path=osp.dirname(path), policy='now')
