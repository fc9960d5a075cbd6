"""Reading a work dir that MMEngine may still be writing: only complete records count."""
import json

from swanlab_backend.import_work_dir import read_records, split_records, validation_iterations


def test_an_unfinished_last_line_is_left_out(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps({'lr': 0.1, 'loss': 1.0, 'step': 1}) + '\n' + '{"lr": 0.1, "lo')
    assert read_records(str(path)) == [{'lr': 0.1, 'loss': 1.0, 'step': 1}]
    before = path.read_bytes()
    read_records(str(path))
    assert path.read_bytes() == before  # only read


def test_validations_go_to_the_iteration_they_ran_at():
    train, val = split_records([
        {'lr': 0.1, 'loss': 1.0, 'epoch': 1, 'iter': 1, 'step': 1}, {'lr': 0.1, 'loss': 0.9, 'epoch': 1, 'step': 2},
        {'accuracy': 50.0, 'time': 0.1, 'step': 1},
        {'lr': 0.1, 'loss': 0.8, 'epoch': 2, 'step': 3}, {'lr': 0.1, 'loss': 0.7, 'epoch': 2, 'step': 4},
        {'accuracy': 75.0, 'time': 0.1, 'step': 2}])
    assert [r['step'] for r in train] == [1, 2, 3, 4] and [r['accuracy'] for r in val] == [50.0, 75.0]
    assert validation_iterations(train, val, by_epoch=True) == [(2, 1), (4, 2)]
    assert validation_iterations(train, [{'accuracy': 1.0, 'step': 3}], by_epoch=False) == [(3, None)]
