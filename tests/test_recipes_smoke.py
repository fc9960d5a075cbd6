"""Every recipe trains, validates and tests on its tiny dataset, and all of it reaches the dashboard."""
import pytest

from ci.check_dashboard import check_experiment
from ci.dashboard import LocalDashboard
from ci.run_smoke import check_case, train_case
from ci.smoke_matrix import SMOKE_CASES


@pytest.fixture(scope='module')
def smoke_root(tmp_path_factory):
    from ci.tiny_datasets import make_all
    root = tmp_path_factory.mktemp('smoke')
    make_all(root / 'data')
    return root


@pytest.fixture(scope='module')
def smoke_board(smoke_root):
    board = LocalDashboard(str(smoke_root / 'swanlog'))
    yield board
    board.stop()


@pytest.mark.parametrize('case', SMOKE_CASES, ids=[c.name for c in SMOKE_CASES])
def test_recipe_smoke_run_reaches_the_dashboard(case, smoke_root, smoke_board):
    work_dir = smoke_root / case.name
    seconds, result = train_case(case, str(smoke_root / 'data'), str(work_dir), str(smoke_root / 'swanlog'))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert check_case(smoke_board, case, str(work_dir)) == []


def test_checker_fails_on_a_run_that_did_not_reach_the_dashboard(smoke_root, smoke_board):
    case = SMOKE_CASES[-1]
    if not (smoke_root / case.name).exists():  # run alone: give the dashboard a project to serve
        train_case(case, str(smoke_root / 'data'), str(smoke_root / case.name), str(smoke_root / 'swanlog'))
    failures = check_experiment(smoke_board, 'no-such-experiment', str(smoke_root / case.name),
                                case.val_metrics, case.val_metrics, case.model_type)
    assert failures and 'no-such-experiment' in failures[0]
