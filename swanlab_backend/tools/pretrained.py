"""The pretrained weights a config asks for: where MMEngine gets them, and a check before training.

MMEngine loads ``init_cfg=dict(type='Pretrained', checkpoint=...)`` and ``pretrained=...``
while the model initialises, downloading into torch's hub cache
(``$TORCH_HOME/hub/checkpoints/<file name of the URL>``, e.g. ``resnet50-0676ba61.pth``).
On a node that can neither find the file there nor download it, that fails deep inside
``init_weights``, after the data and model are built. :func:`check_pretrained` resolves
each checkpoint as MMEngine does and stops before training, naming the URL, the cache file
and ``--no-pretrained``; the download itself stays MMEngine's (proxy variables honoured).
"""
import os
import os.path as osp
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from .config_tree import iter_dicts

PROBE_TIMEOUT_S = 10.0
NO_PRETRAINED_FLAG = '--no-pretrained'


class Checkpoint(NamedTuple):
    name: str            # as the config has it: torchvision://resnet50, open-mmlab://..., a URL or a path
    url: Optional[str]   # where MMEngine downloads it from (None for a local file)
    path: str            # the cached file MMEngine loads (or the local file)


class PretrainedUnavailable(RuntimeError):
    """Raised before training when pretrained weights can be neither found nor downloaded."""


def _pretrained_slots(model_cfg: Any) -> List[Tuple[dict, str, str]]:
    """``(node, key, checkpoint)`` of every ``Pretrained`` ``init_cfg`` and ``pretrained=`` in ``model_cfg``."""
    slots = []
    for node in iter_dicts(model_cfg):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            slots.append((node, 'init_cfg', init_cfg.get('checkpoint', '')))
        if isinstance(node.get('pretrained'), str):
            slots.append((node, 'pretrained', node['pretrained']))
    return slots


def pretrained_checkpoints(model_cfg: Any) -> List[str]:
    """The checkpoints of every ``Pretrained`` ``init_cfg`` and ``pretrained=`` in ``model_cfg``."""
    return [checkpoint for _, _, checkpoint in _pretrained_slots(model_cfg) if checkpoint]


def drop_pretrained(model_cfg: Any) -> List[str]:
    """Drops every ``Pretrained`` ``init_cfg`` and ``pretrained=`` checkpoint (``--no-pretrained``, the demo
    and smoke runs); returns the checkpoints dropped."""
    slots = _pretrained_slots(model_cfg)
    for node, key, _ in slots:
        node[key] = None
    return [checkpoint for _, _, checkpoint in slots]


def resolve(name: str) -> Checkpoint:
    """Where MMEngine's ``CheckpointLoader`` takes ``name`` from (same tables, same cache path)."""
    from mmengine.runner import checkpoint as loader
    url: Optional[str] = None
    if name.startswith(('torchvision://', 'modelzoo://')):
        url = loader.get_torchvision_models()[name.partition('://')[2]]
    elif name.startswith(('open-mmlab://', 'openmmlab://')):
        model = name.partition('://')[2]
        model = loader.get_deprecated_model_names().get(model, model)
        target = loader.get_external_models()[model]
        if not target.startswith(('http://', 'https://')):
            return Checkpoint(name, None, osp.join(loader._get_mmengine_home(), target))
        url = target
    elif name.startswith('mmcls://'):
        url = loader.get_mmcls_models()[name[len('mmcls://'):]]
    elif name.startswith(('http://', 'https://')):
        url = name
    if url is None:
        return Checkpoint(name, None, osp.expanduser(name))
    return Checkpoint(name, url, cache_path(url))


def cache_path(url: str) -> str:
    """The file ``torch.hub.load_state_dict_from_url`` (MMEngine's ``load_url``) keeps ``url`` in."""
    from torch.hub import get_dir
    return osp.join(get_dir(), 'checkpoints', osp.basename(urllib.parse.urlparse(url).path))


def download_problem(url: str, timeout: float = PROBE_TIMEOUT_S) -> Optional[str]:
    """Why ``url`` cannot be downloaded now, or None. Goes through the proxy that urllib (and so
    torch's downloader) takes from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``."""
    request = urllib.request.Request(url, headers={'Range': 'bytes=0-0'})  # one byte, not 100 MB
    try:  # an opener of its own: urlopen's global one keeps the proxy settings of its first use
        with urllib.request.build_opener().open(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as e:
        return f'the server answered HTTP {e.code}'
    except (OSError, ValueError) as e:
        reason = getattr(e, 'reason', e)
        return f'{type(reason).__name__}: {reason}'


def _proxy_note() -> str:
    proxies = urllib.request.getproxies()
    proxy = proxies.get('https') or proxies.get('http')
    return f'through the proxy {_without_credentials(proxy)}' if proxy else 'directly (no HTTPS_PROXY set)'


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=parts.hostname + (f':{parts.port}' if parts.port else '')).geturl() \
        if parts.hostname else url


def check_pretrained(model_cfg: Any, log: Callable[[str], None],
                     timeout: float = PROBE_TIMEOUT_S) -> List[Checkpoint]:
    """Checks that every pretrained checkpoint of ``model_cfg`` is cached or downloadable now.

    Logs where each one will come from; raises :class:`PretrainedUnavailable` naming
    every missing one, its URL, the cache file to put it in, and ``--no-pretrained``.
    """
    checkpoints, missing = [], []
    for name in dict.fromkeys(pretrained_checkpoints(model_cfg)):
        checkpoint = resolve(name)
        checkpoints.append(checkpoint)
        if osp.isfile(checkpoint.path):
            log(f'Pretrained weights {name}: found {checkpoint.path}')
            continue
        problem = 'no such file' if checkpoint.url is None else download_problem(checkpoint.url, timeout)
        if problem is None:
            log(f'Pretrained weights {name}: not cached yet; MMEngine downloads {checkpoint.url} '
                f'to {checkpoint.path} when the model is initialised')
            continue
        source = f'download of {checkpoint.url} {_proxy_note()} failed: {problem}' if checkpoint.url \
            else 'not found'
        missing.append(f'  {name}\n    file: {checkpoint.path} (missing)\n    {source}')
    if missing:
        raise PretrainedUnavailable(
            'the pretrained weights of this model cannot be had, so training stops before it starts:\n'
            + '\n'.join(missing) + '\n'
            'Fix one of:\n'
            '  - download the file(s) on a machine with network access and put them at the path(s) above '
            f'(the cache is $TORCH_HOME/hub/checkpoints; TORCH_HOME={os.environ.get("TORCH_HOME", "unset")});\n'
            '  - set HTTPS_PROXY if this node reaches the internet through a proxy;\n'
            f'  - or pass {NO_PRETRAINED_FLAG} to train from scratch on purpose (far below the recipe\'s '
            'reference accuracy).')
    return checkpoints
