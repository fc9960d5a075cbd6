"""Where a setup's logging time goes, thread by thread: one micro run under cProfile.

    python -m bench.profile_tracking b1 [--steps 2000] [--images 10] [--top 12] [--out FILE]

Runs ``bench/micro_child.py``'s workload in this process with a profiler in every
thread: the calling (training) thread, our ``swanlab-images`` thread and any other.
Our SwanLab writer runs in a process of its own; with
``SWANLAB_BACKEND_WRITER=thread`` it runs here (``swanlab-run-writer``), beside
SwanLab's own consumer (``SwanLab·Specter``), and is profiled too. Prints each thread's busiest
functions by own time and by cumulative time, then this project's functions
(``swanlab_backend``) by cumulative time. cProfile slows Python-heavy code down,
so read the shares, not the absolute times.
"""
import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading

from bench import micro_child

PROFILES = {}


def _profile_this_thread(frame, event, arg):
    """Installed by threading.setprofile: swaps itself for a cProfile of the new thread."""
    sys.setprofile(None)
    profile = cProfile.Profile()
    PROFILES[threading.current_thread().name] = profile
    profile.enable()


def report(name: str, profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    out.write(f'==== thread {name}: {stats.total_tt:.2f} s profiled ====\n')
    for order in ('tottime', 'cumulative'):
        stats.sort_stats(order).print_stats(top)
    stats.sort_stats('cumulative').print_stats('swanlab_backend', top)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('setup')
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--images', type=int, default=10)
    parser.add_argument('--top', type=int, default=12)
    parser.add_argument('--out', help='also write the report here')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='tracking-profile-') as work_dir:
        result_file = os.path.join(work_dir, 'result.json')
        threading.setprofile(_profile_this_thread)
        main_profile = cProfile.Profile()
        main_profile.enable()
        micro_child.main([args.setup, '--work-dir', work_dir, '--result', result_file,
                          '--steps', str(args.steps), '--images', str(args.images)])
        main_profile.disable()
        threading.setprofile(None)
    text = ''.join(report(name, profile, args.top)
                   for name, profile in [('MainThread (the caller)', main_profile)] + sorted(PROFILES.items()))
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
