"""What a detection demo changes so that a recipe written for ImageNet weights learns from scratch (issue #27)."""
import os

from mmengine.config import Config

from ci.smoke_overrides import learn_from_scratch

RECIPES = os.path.join(os.path.dirname(__file__), '..', '..', 'recipes', 'mmdet')


def recipe(name):
    return Config.fromfile(os.path.join(RECIPES, name))


def test_faster_rcnn_unfreezes_its_backbone_compresses_its_steps_and_samples_fewer_rois(capsys):
    cfg = recipe('faster-rcnn_r50_fpn_1x_coco.py')
    assert (cfg.model.backbone.frozen_stages, cfg.model.backbone.norm_eval) == (1, True)
    learn_from_scratch(cfg, length=10)
    assert (cfg.model.backbone.frozen_stages, cfg.model.backbone.norm_eval) == (-1, False)
    steps = next(s for s in cfg.param_scheduler if s.type == 'MultiStepLR')
    assert (steps.milestones, steps.end) == ([7, 9], 10)  # 8 and 11 of 12 epochs
    assert next(s for s in cfg.param_scheduler if s.type == 'LinearLR').end == 500  # counted in iterations
    assert cfg.model.train_cfg.rcnn.sampler.num == 128
    log = capsys.readouterr().out.splitlines()
    assert log == ['demo: backbone.frozen_stages 1 -> -1 (training from scratch)',
                   'demo: backbone.norm_eval True -> False (training from scratch)',
                   'demo: epoch schedule 12 -> 10 epochs (lr steps and phases at the same fractions)',
                   'demo: train_cfg.rcnn.sampler.num 512 -> 128 (1-3 objects per image)']


def test_rtmdet_switches_its_pipeline_and_cosine_phase_at_the_same_fractions():
    cfg = recipe('rtmdet_tiny_8xb32-300e_coco.py')
    learn_from_scratch(cfg, length=10)
    cosine = next(s for s in cfg.param_scheduler if s.type == 'CosineAnnealingLR')
    assert (cosine.begin, cosine.end, cosine.T_max) == (5, 10, 5)  # 150, 300 and 150 of 300 epochs
    switch = next(h for h in cfg.custom_hooks if h.type == 'PipelineSwitchHook')
    assert switch.switch_epoch == 9  # 280 of 300
    assert cfg.train_cfg.dynamic_intervals == [(9, 1)]
    assert 'rcnn' not in (cfg.model.get('train_cfg') or {})


def test_a_recipe_of_the_demo_length_keeps_its_schedule():
    cfg = recipe('retinanet_r50_fpn_1x_coco.py')
    learn_from_scratch(cfg, length=12)
    assert next(s for s in cfg.param_scheduler if s.type == 'MultiStepLR').milestones == [8, 11]
    assert cfg.model.backbone.norm_eval is False


def test_rtmdet_demo_runs_6_epochs_at_160_px_with_the_recipes_own_lr_on_one_class(tmp_path):
    from ci.demo import demo_data, smoke_train_args
    config = os.path.join(RECIPES, 'rtmdet_tiny_8xb32-300e_coco.py')
    assert demo_data(config, 'coco') == dict(num_train=32, num_val=16, num_classes=1, max_objects=2)
    from ci.smoke_train import main as smoke_train
    dumped = {}
    for name in ('rtmdet_tiny_8xb32-300e_coco', 'faster-rcnn_r50_fpn_1x_coco'):
        args = smoke_train_args(os.path.join(RECIPES, f'{name}.py'), 'coco', str(tmp_path / 'data'), str(tmp_path))
        assert smoke_train(args + ['--dump', str(tmp_path / f'{name}.py')]) == 0
        dumped[name] = Config.fromfile(tmp_path / f'{name}.py')
    rtmdet, faster_rcnn = dumped['rtmdet_tiny_8xb32-300e_coco'], dumped['faster-rcnn_r50_fpn_1x_coco']
    assert next(t for t in rtmdet.train_dataloader.dataset.pipeline if t.type == 'CachedMosaic').img_scale == (160, 160)
    assert (rtmdet.auto_scale_lr.enable, rtmdet.optim_wrapper.optimizer.lr) == (False, 0.004)
    assert (rtmdet.train_cfg.max_epochs, faster_rcnn.train_cfg.max_epochs) == (6, 10)
    cosine = next(s for s in rtmdet.param_scheduler if s.type == 'CosineAnnealingLR')
    assert (cosine.begin, cosine.end) == (3, 6)  # 150 and 300 of 300 epochs
    assert next(h for h in rtmdet.custom_hooks if h.type == 'PipelineSwitchHook').switch_epoch == 6  # 280: no switch
    assert faster_rcnn.auto_scale_lr.enable is True  # the other detectors keep theirs, at 1/8 scale
    assert next(t for t in faster_rcnn.train_dataloader.dataset.pipeline if t.type == 'Resize').scale == (167, 96)


def test_retinanet_demo_has_one_class_and_a_faster_classifier(tmp_path):
    from ci.demo import demo_data, smoke_train_args
    from ci.smoke_train import main as smoke_train
    config = os.path.join(RECIPES, 'retinanet_r50_fpn_1x_coco.py')
    assert demo_data(config, 'coco') == dict(num_train=32, num_val=16, num_classes=1, max_objects=2)
    assert demo_data(os.path.join(RECIPES, 'faster-rcnn_r50_fpn_1x_coco.py'), 'coco') == dict(num_train=32, num_val=8)
    args = smoke_train_args(config, 'coco', str(tmp_path / 'data'), str(tmp_path))
    assert smoke_train(args + ['--dump', str(tmp_path / 'retinanet.py')]) == 0
    retinanet = Config.fromfile(tmp_path / 'retinanet.py')
    assert (retinanet.auto_scale_lr.enable, retinanet.optim_wrapper.optimizer.lr) == (True, 0.01)  # scaled at start
    assert retinanet.optim_wrapper.paramwise_cfg.custom_keys == dict(retina_cls=dict(lr_mult=20))
    assert retinanet.model.bbox_head.num_classes == 80  # the recipe's head, only the data has one class
