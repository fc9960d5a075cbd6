"""What the run happened on: package versions, device, the user's git commit and the training process."""
import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from typing import Dict

PACKAGES = ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmdet', 'mmsegmentation', 'mmpretrain',
            'swanlab', 'numpy')


def package_versions() -> Dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def device_summary() -> str:
    import torch
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        return f'cuda x{count} ({torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda})'
    return f'cpu ({os.cpu_count()} cores)'


def git_commit(path: str = '.') -> str:
    """``<sha>`` or ``<sha>-dirty`` of the repository holding ``path``; '' outside git."""
    def git(*args: str) -> str:
        return subprocess.run(['git', '-C', path, *args], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
    try:
        sha = git('rev-parse', 'HEAD')
        dirty = bool(git('status', '--porcelain', '--untracked-files=no'))
    except (OSError, subprocess.SubprocessError):
        return ''
    return f'{sha}-dirty' if dirty else sha


def run_environment(path: str = '.') -> Dict[str, str]:
    """Everything above as flat ``env.*`` config entries."""
    env = {f'env.{name}': version for name, version in package_versions().items()}
    env['env.python'] = platform.python_version()
    env['env.device'] = device_summary()
    commit = git_commit(path)
    if commit:
        env['env.git_commit'] = commit
    return env


def training_process() -> Dict[str, object]:
    """What SwanLab's runtime probe finds in the process that calls ``swanlab.init``, for this process:
    the writer process makes SwanLab record these (:mod:`swanlab_backend.writer.training_view`)."""
    try:
        with open('/proc/self/cmdline', 'rb') as f:  # SwanLab's own source of the command on Linux
            command = ' '.join(a for a in f.read().decode('utf-8', 'replace').split('\x00') if a)
    except OSError:
        command = ''
    return dict(pid=os.getpid(), cwd=os.getcwd(), command=command or ' '.join(sys.argv),
                python_executable=sys.executable, hostname=socket.gethostname())
