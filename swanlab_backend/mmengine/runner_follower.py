"""Training side: what the hooks tell a SwanLab backend, as an interface of its own.

``SwanlabHook`` and ``SwanlabInsightsHook`` find the backends to tell among the
runner's visualizer backends by this class. They never import the backend itself:
the backend adds the hooks to a runner that lacks them (``runner_link``), so an
import back would close a circle.
"""
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Iterator, Optional


class RunnerFollower(metaclass=ABCMeta):
    """A visualizer backend that follows its runner through the hooks' calls."""

    @abstractmethod
    def link_runner(self, runner: Any) -> None:
        """Makes ``runner``'s progress and phases known to the backend (idempotent)."""

    @abstractmethod
    def start_phase(self, phase: str) -> None:
        """The runner begins ``train``, ``val`` or ``test``."""

    @abstractmethod
    def note_progress(self, iterations_done: int, by_epoch: bool) -> None:
        """The training has done ``iterations_done`` iterations, in an epoch-based loop or not."""

    @abstractmethod
    def set_section(self, section: Optional[str]) -> None:
        """Where the next metrics go: ``train``, ``val`` or ``test``."""

    @abstractmethod
    def note_checkpoint(self, meta: dict) -> None:
        """The runner loaded a checkpoint with this ``meta``."""

    @abstractmethod
    def keep_open_for_next_phase(self) -> None:
        """Training ended: the next ``close()`` only flushes, for a ``test()`` that may follow."""

    @abstractmethod
    def log_metrics(self, section: str, metrics: dict) -> None:
        """Logs ``metrics`` under ``section`` (test metrics, which MMEngine logs to a file only)."""

    @abstractmethod
    def end_test(self) -> None:
        """A test ended: what it held back is logged."""

    @abstractmethod
    def log_report(self, section: str, build: Callable[[], dict]) -> None:
        """Logs what ``build()`` returns (insights' charts and tables) at ``section``'s step."""

    @property
    @abstractmethod
    def ledger(self) -> Any:
        """The checkpoint ledger of the open run, else None."""


def followers(runner: Any) -> Iterator[RunnerFollower]:
    """The backends of ``runner``'s visualizer that follow it."""
    for backend in getattr(getattr(runner, 'visualizer', None), '_vis_backends', {}).values():
        if isinstance(backend, RunnerFollower):
            yield backend
