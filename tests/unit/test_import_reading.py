"""Reading a work dir that MMEngine may still be writing: only complete records count."""
import json

from swanlab_backend.tools.import_work_dir import (
    _has_traceback,
    read_records,
    read_scalars,
    read_test_metrics,
    run_dirs,
    split_records,
    validation_iterations,
)


def test_an_unfinished_last_line_is_left_out(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps({'lr': 0.1, 'loss': 1.0, 'step': 1}) + '\n' + '{"lr": 0.1, "lo')
    assert read_records(str(path)) == [{'lr': 0.1, 'loss': 1.0, 'step': 1}]
    before = path.read_bytes()
    read_records(str(path))
    assert path.read_bytes() == before  # only read


def test_a_run_dirs_scalars_read_as_train_and_val(tmp_path):
    """The one reader of ``vis_data/scalars.json`` (the import and ``ci.check_dashboard`` both use it)."""
    vis_data = tmp_path / '20261201_120000' / 'vis_data'
    vis_data.mkdir(parents=True)
    (vis_data / 'scalars.json').write_text(json.dumps({'lr': 0.1, 'loss': 1.0, 'step': 1}) + '\n'
                                           + json.dumps({'accuracy': 50.0, 'step': 1}) + '\n')
    (run_dir,) = run_dirs(str(tmp_path))
    assert read_scalars(run_dir) == ([{'lr': 0.1, 'loss': 1.0, 'step': 1}], [{'accuracy': 50.0, 'step': 1}])


def test_a_traceback_anywhere_in_a_log_is_found(tmp_path):
    log = tmp_path / 'run.log'
    log.write_text('epoch 1\n' * 1000 + 'Traceback (most recent call last):\n  File "train.py"\n')
    assert _has_traceback(str(log))
    log.write_text('epoch 1\n' * 1000)
    assert not _has_traceback(str(log))


def test_validations_go_to_the_iteration_they_ran_at():
    train, val = split_records([
        {'lr': 0.1, 'loss': 1.0, 'epoch': 1, 'iter': 1, 'step': 1}, {'lr': 0.1, 'loss': 0.9, 'epoch': 1, 'step': 2},
        {'accuracy': 50.0, 'time': 0.1, 'step': 1},
        {'lr': 0.1, 'loss': 0.8, 'epoch': 2, 'step': 3}, {'lr': 0.1, 'loss': 0.7, 'epoch': 2, 'step': 4},
        {'accuracy': 75.0, 'time': 0.1, 'step': 2}])
    assert [r['step'] for r in train] == [1, 2, 3, 4] and [r['accuracy'] for r in val] == [50.0, 75.0]
    assert validation_iterations(train, val, by_epoch=True) == [(2, 1), (4, 2)]
    assert validation_iterations(train, [{'accuracy': 1.0, 'step': 3}], by_epoch=False) == [(3, None)]


def test_a_test_result_dumped_by_two_ranks_at_once_reads_as_the_first_object(tmp_path):
    # what CI saw after a 2-rank test: the shorter dump of one rank over the longer dump of the other
    (tmp_path / '20261201_120000.json').write_text(
        '{"coco/bbox_mAP": 0.25, "coco/bbox_mAP_s": -1.0, "classes": "a", "time": 4.18}7}')
    assert read_test_metrics(str(tmp_path)) == {'coco/bbox_mAP': 0.25, 'coco/bbox_mAP_s': -1.0, 'time': 4.18}
    (tmp_path / '20261201_120000.json').write_text('{"coco/bbox_m')
    assert read_test_metrics(str(tmp_path)) == {}
