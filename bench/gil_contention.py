"""How much a busy background Python thread slows a CPU training step (the GIL), and how much a busy process does.

    python -m bench.gil_contention [--steps 20] [--rounds 5]

A ResNet-18 training step on a CIFAR-sized batch, single-threaded, timed alone,
next to a thread of this process that holds the GIL for 10% and 30% of the time
(what a logging thread does while it turns records into Python objects), and
next to another process that keeps one core busy (no GIL involved). Explains why
the training loops of ``run_bench.py`` slow down with the CPU the trackers'
background threads use, although the training thread itself spends little time
in the trackers. The conditions take turns round by round; medians are shown.
"""
import argparse
import statistics
import subprocess
import sys
import threading
import time


def step_ms(model, batch, optimizer, steps: int) -> float:
    """Median milliseconds of one forward/backward/update step."""
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        model(batch).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def hold_gil(share: float, stop: threading.Event, period_s: float = 0.01) -> None:
    """Spins in pure Python for ``share`` of every period, sleeps for the rest."""
    while not stop.is_set():
        started = time.perf_counter()
        while time.perf_counter() - started < share * period_s:
            pass
        time.sleep((1 - share) * period_s)


class Neighbour:
    """A context that runs one kind of competition while the steps are timed."""

    def __init__(self, gil_share: float = 0.0, process: bool = False):
        self.gil_share, self.process = gil_share, process

    def __enter__(self):
        self.stop = threading.Event()
        self.thread = self.spinner = None
        if self.gil_share:
            self.thread = threading.Thread(target=hold_gil, args=(self.gil_share, self.stop))
            self.thread.start()
        if self.process:
            self.spinner = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread:
            self.thread.join()
        if self.spinner:
            self.spinner.kill()


CONDITIONS = {
    'alone': Neighbour(),
    'a thread holding the GIL 10% of the time': Neighbour(gil_share=0.1),
    'a thread holding the GIL 30% of the time': Neighbour(gil_share=0.3),
    'another process keeping a core busy': Neighbour(process=True),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=20, help='steps per condition and round')
    parser.add_argument('--rounds', type=int, default=5, help='the conditions take turns, round by round')
    args = parser.parse_args(argv)
    import torch
    import torchvision
    torch.set_num_threads(1)
    model = torchvision.models.resnet18(num_classes=10)
    batch = torch.randn(2, 3, 32, 32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    step_ms(model, batch, optimizer, 10)  # warm-up

    results = {name: [] for name in CONDITIONS}
    for _ in range(args.rounds):
        for name, neighbour in CONDITIONS.items():
            with neighbour:
                results[name].append(step_ms(model, batch, optimizer, args.steps))
    alone = statistics.median(results['alone'])
    for name, times in results.items():
        median = statistics.median(times)
        print(f'{name}: {median:.1f} ms per step ({median / alone:.2f}x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
