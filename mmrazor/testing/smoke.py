# Copyright (c) OpenMMLab. All rights reserved.
"""Turn a full-size config into a smoke run: no downloads, fake data, tiny
inputs and tiny searches, through the ordinary :class:`Runner` path.

Used to check that a config (ours, or one a user brings from the original
MMRazor) builds and runs a couple of iterations; it never measures
accuracy.
"""
import copy
from typing import Any, Dict, List, Optional, Tuple, Union

from mmengine.config import Config, ConfigDict

from mmrazor.utils._mmengine_compat import config_dict

from .fake_data import use_fake_data

# keys whose value names a checkpoint to load (a path or a URL)
CHECKPOINT_KEYS = ('teacher_ckpt', 'ckpt_path', 'load_from')
# keys holding the (N, C, H, W) of a dry run, a trace or a FLOPs count
SHAPE_KEYS = ('demo_input', 'input_shape', 'demo_input_shape')
SEARCH_LOOPS = ('EvolutionSearchLoop', 'AutoSlimGreedySearchLoop')
MMENGINE_TRAIN_LOOPS = ('EpochBasedTrainLoop', 'IterBasedTrainLoop')


def drop_downloads(node: Any) -> None:
    """Remove, in place and everywhere in a config tree, what would
    download or read weights: ``Pretrained`` init configs, checkpoint paths
    (:data:`CHECKPOINT_KEYS`) and ``pretrained`` flags or paths."""
    if isinstance(node, dict):
        for key in CHECKPOINT_KEYS:
            if isinstance(node.get(key), str):
                node[key] = None
        if node.get('pretrained') is True:
            node['pretrained'] = False
        elif isinstance(node.get('pretrained'), str):
            node['pretrained'] = None
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and \
                init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init_cfg, list):
            node['init_cfg'] = [
                c for c in init_cfg
                if not (isinstance(c, dict) and c.get('type') == 'Pretrained')
            ] or None
        for value in node.values():
            drop_downloads(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            drop_downloads(value)


def shrink_inputs(node: Any, size: int, resizer: bool = True) -> None:
    """Set, in place, every input shape of a dry run, trace or FLOPs count
    (:data:`SHAPE_KEYS`) to ``(1, 3, size, size)`` and, with ``resizer``,
    every input size an input resizer samples from to ``size`` or
    ``1.5 * size`` (a subnet file that fixes a size then no longer fits:
    leave them for subnet configs)."""
    sizes = [[size, size], [size * 3 // 2, size * 3 // 2]]
    if isinstance(node, dict):
        for key in SHAPE_KEYS:
            if isinstance(node.get(key), (list, tuple)):
                node[key] = (1, 3, size, size)
        if resizer and isinstance(node.get('input_sizes'), (list, tuple)):
            node['input_sizes'] = copy.deepcopy(sizes)
        shape = node.get('mutable_shape')
        if resizer and isinstance(shape, dict) and 'value_list' in shape:
            shape.update(value_list=copy.deepcopy(sizes),
                         default_value=list(sizes[0]))
        for value in node.values():
            shrink_inputs(value, size, resizer)
    elif isinstance(node, (list, tuple)):
        for value in node:
            shrink_inputs(value, size, resizer)


def _tiny_search(loop: dict, dataloader: dict) -> dict:
    """A search loop config that evaluates two candidates (evolution; with
    a metric predictor, three to fit it and one to verify) or stops at once
    (greedy slimming) on ``dataloader``."""
    loop = copy.deepcopy(loop)
    loop['dataloader'] = copy.deepcopy(dataloader)
    if loop.get('calibrate_sample_num'):
        loop['calibrate_sample_num'] = 2
    if loop['type'].split('.')[-1] == 'EvolutionSearchLoop':
        loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1,
                    num_crossover=1)
        predictor = loop.get('predictor_cfg')
        if isinstance(predictor, dict) and isinstance(
                predictor.get('train_samples', 2), int):
            # fitted on 3 evaluated subnets, 1 best predicted verified
            predictor['train_samples'] = 3
            loop['verify_top_k'] = 1
    else:
        # above what the fake-size network counts: met before any step
        loop['target_flops'] = (1e6, )
    return loop


def smoke_config(cfg: Union[Config, str],
                 work_dir: str,
                 image_size: int = 64,
                 num_classes: Optional[int] = None,
                 batch_size: int = 2,
                 max_iters: int = 2) -> Tuple[Config, str]:
    """Return a copy of ``cfg`` for a smoke run, and the runner method that
    runs it (``'train'``, or ``'test'`` for a config whose only loop is a
    test-time search).

    Downloads are dropped (:func:`drop_downloads`), the data is replaced by
    :func:`~mmrazor.testing.use_fake_data` (4 images of ``image_size``),
    input shapes shrink to the same size (:func:`shrink_inputs`), search
    loops evaluate two candidates on the fake validation data, a training
    loop of another type than mmengine's runs one epoch of the fake data
    (with it as every dataloader it reads), subnet validations calibrate
    on 2 images, and no checkpoint is written.

    Args:
        cfg (Config | str): A config or its path.
        work_dir (str): The work dir of the run.
        image_size (int): Height and width of the fake images.
            Defaults to 64.
        num_classes (int, optional): Classes of the fake labels. Defaults
            to the smallest ``num_classes`` in the model config (a 10-class
            digits or CIFAR model gets labels below 10), or 1000 if it
            names none.
        batch_size (int): Batch size. Defaults to 2.
        max_iters (int): Training iterations. Defaults to 2.

    Returns:
        tuple[Config, str]: The config and ``'train'`` or ``'test'``.
    """
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else copy.deepcopy(cfg)
    if num_classes is None:
        found = model_num_classes(cfg.get('model'))
        num_classes = min(found) if found else 1000
    train_loop: Optional[Dict] = cfg.get('train_cfg')
    test_loop: Optional[Dict] = cfg.get('test_cfg')
    for key in ('load_from', 'resume'):
        cfg[key] = None if key == 'load_from' else False
    drop_downloads(config_dict(cfg))
    model_type = str((cfg.get('model') or {}).get('type', ''))
    shrink_inputs(config_dict(cfg), image_size,
                  resizer=model_type.split('.')[-1] != 'sub_model')
    if cfg.get('default_hooks') is None:
        cfg.default_hooks = ConfigDict()
    mode = 'train'
    if train_loop is None and _is_search(test_loop):
        mode = 'test'
        for split in ('train', 'val'):
            cfg[f'{split}_dataloader'] = None
    cfg = use_fake_data(cfg, work_dir, num_samples=4, image_size=image_size,
                        batch_size=batch_size, max_iters=max_iters,
                        num_classes=num_classes)
    if mode == 'test':
        cfg.train_cfg = cfg.val_cfg = None
        cfg.optim_wrapper = cfg.param_scheduler = None
        cfg.val_evaluator = None
        cfg.test_cfg = _tiny_search(test_loop, cfg.test_dataloader)
    elif _is_search(train_loop):
        cfg.train_cfg = _tiny_search(train_loop, cfg.val_dataloader)
    elif _is_custom(train_loop):
        cfg.train_cfg = _tiny_custom(train_loop, cfg.train_dataloader,
                                     max_iters)
    for key in ('val_cfg', 'test_cfg'):
        loop = cfg.get(key)
        if isinstance(loop, dict) and loop.get('calibrate_sample_num'):
            loop['calibrate_sample_num'] = 2
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg, mode


def model_num_classes(node: Any) -> List[int]:
    """Every positive int ``num_classes`` in a model config tree."""
    found: List[int] = []
    if isinstance(node, dict):
        value = node.get('num_classes')
        if isinstance(value, int) and not isinstance(value, bool) \
                and value > 0:
            found.append(value)
        for child in node.values():
            found += model_num_classes(child)
    elif isinstance(node, (list, tuple)):
        for child in node:
            found += model_num_classes(child)
    return found


def _is_custom(loop: Optional[Dict]) -> bool:
    """Whether ``loop`` is a training loop config of its own type (e.g.
    DARTS's, which also reads a second dataloader), not mmengine's."""
    return isinstance(loop, dict) and 'type' in loop and \
        str(loop['type']).split('.')[-1] not in MMENGINE_TRAIN_LOOPS


def _tiny_custom(loop: dict, dataloader: dict, max_iters: int) -> dict:
    """A custom training loop config that runs one epoch of the fake data
    (or ``max_iters``), every dataloader it reads being ``dataloader``."""
    loop = copy.deepcopy(loop)
    for key in loop:
        if key.endswith('dataloader'):
            loop[key] = copy.deepcopy(dataloader)
    if 'max_iters' in loop:
        loop.update(max_iters=max_iters, val_interval=max_iters)
    else:
        loop.update(max_epochs=1, val_interval=1)
    return loop


def _is_search(loop: Optional[Dict]) -> bool:
    """Whether ``loop`` is the config of a search loop."""
    return isinstance(loop, dict) and \
        str(loop.get('type', '')).split('.')[-1] in SEARCH_LOOPS
