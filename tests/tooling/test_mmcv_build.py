"""Which mmcv ops setup builds, with which nvcc, and which doctor checks run: the decisions, without a GPU."""
import importlib.util

import pytest

from swanlab_backend.tools import doctor

from helpers import ROOT

spec = importlib.util.spec_from_file_location('mmcv_build', ROOT / 'scripts' / 'lib' / 'mmcv_build.py')
mmcv_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mmcv_build)
Facts, plan = mmcv_build.Facts, mmcv_build.plan


def test_no_gpu_builds_cpu_ops():
    assert plan(Facts('13.0', None, '13.0')).flavour == 'cpu'
    assert plan(Facts(None, None, None)).flavour == 'cpu'


def test_a_gpu_gets_cuda_ops_for_its_architecture_only():
    chosen = plan(Facts('13.0', (9, 0), '13.0'))
    assert (chosen.flavour, chosen.arch_list, chosen.install) == ('cuda', '9.0', ())


@pytest.mark.parametrize('nvcc', [None, '12.4'])
def test_a_missing_or_mismatched_nvcc_comes_from_the_registry_at_torchs_cuda_version(nvcc):
    chosen = plan(Facts('13.0', (8, 6), nvcc))
    assert chosen.flavour == 'cuda' and chosen.arch_list == '8.6'
    assert chosen.install == ('nvidia-cuda-nvcc==13.0.*', 'nvidia-cuda-cccl==13.0.*')


def test_forced_cuda_ops_without_a_gpu_need_the_architecture():
    assert plan(Facts('13.0', None, '13.0', force_cuda=True, arch_list='9.0')).arch_list == '9.0'
    with pytest.raises(mmcv_build.CannotBuild, match='TORCH_CUDA_ARCH_LIST'):
        plan(Facts('13.0', None, '13.0', force_cuda=True))


def test_a_gpu_with_a_cpu_only_torch_is_a_clear_stop():
    with pytest.raises(mmcv_build.CannotBuild, match='torch is a CPU-only build'):
        plan(Facts(None, (9, 0), '13.0'))


def test_this_machine_plans_what_it_can_build():
    facts = mmcv_build.detect()
    assert plan(facts).flavour == ('cuda' if facts.gpu_capability else 'cpu')


def test_the_doctor_checks_cuda_ops_exactly_when_a_gpu_is_visible():
    names = [name for name, _ in doctor.checks_for(cuda_available=True)]
    assert 'mmcv CUDA ops' in names and 'mmcv ops' in names
    assert 'mmcv CUDA ops' not in [name for name, _ in doctor.checks_for(cuda_available=False)]


def test_a_cpu_only_mmcv_fails_the_cuda_check_with_the_fix(monkeypatch):
    def no_cuda_ops(device):
        raise RuntimeError('nms_impl: implementation for device cuda:0 not found.')
    monkeypatch.setattr(doctor, '_run_ops', no_cuda_ops)
    with pytest.raises(AssertionError, match='built without CUDA ops. Run `bash scripts/setup.sh` on this GPU'):
        doctor.check_mmcv_cuda_ops()
