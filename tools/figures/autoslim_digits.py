# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of ``tools/demo_autoslim.py``: AutoSlim on digits (pruning
guide)."""
import os.path as osp
from typing import Any, Callable, Dict

from _figure_common import conditions_text, duration, newest_run, read_json

NAME = 'autoslim-digits'
COMMANDS = ['OMP_WAIT_POLICY=PASSIVE python tools/demo_autoslim.py']
RUN_ARGS = '--work-dir {work_dir}/autoslim_digits_demo'
VOLATILE = ('times_s', 'wall_time_s')


def _config(name: str):
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return Config.fromfile(
        osp.join(repo, 'configs', 'pruning', 'mmcls', 'autoslim', 'demo',
                 name))


def collect(work_dir: str) -> Dict[str, Any]:
    """The report, search summary and plot of the newest demo run."""
    run = newest_run(osp.join(work_dir, 'autoslim_digits_demo'))
    report = read_json(osp.join(run, 'report.json'))
    summary = read_json(
        osp.join(run, 'search', 'greedy_search_summary.json'))
    for row in summary['targets']:
        row['subnet'] = osp.basename(row['subnet'])
    rows = [dict(r, found_subnet=osp.basename(r['found_subnet']),
                 uniform_subnet=osp.basename(r['uniform_subnet']))
            for r in report['rows']]
    supernet_cfg = _config('autoslim_mbv2_supernet_digits.py')
    search_cfg = _config('autoslim_mbv2_search_digits.py').train_cfg
    return dict(
        supernet=report['supernet'], retrain_epochs=report['retrain_epochs'],
        val_images=report['val_images'], seed=report['seed'], rows=rows,
        mean_gain=report['mean_gain'], times_s=report['times_s'],
        wall_time_s=report['wall_time_s'],
        val_calibrate_sample_num=supernet_cfg.val_cfg.calibrate_sample_num,
        search_val_images=search_cfg.dataloader.dataset.indices,
        search_calibrate_sample_num=search_cfg.calibrate_sample_num,
        search=summary,
        plots=dict(search=osp.join(run, 'search', 'greedy_search.png')))


def results(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    s = r['search']
    unit = f'{s["flops_unit"]}FLOPs'
    t = r['times_s']
    sup = r['supernet']
    search_rows = [f'| full width | {s["start"]["flops"]:.3f} | '
                   f'{s["start"]["params"]:.3f} | {s["start"]["score"]:.2f} |']
    search_rows += [
        f'| target {x["target"]:g} {unit} (`{x["subnet"]}`) | '
        f'{x["flops"]:.3f} | {x["params"]:.3f} | {x["score"]:.2f} |'
        for x in s['targets']]
    search_rows += [f'| uniform width {u["width"]} | {u["flops"]:.3f} | '
                    f'{u["params"]:.3f} | {u["score"]:.2f} |'
                    for u in s['uniform']]
    retrain_rows = [
        f'| {x["target"]:g} | {x["found_mflops"]:.3f} | '
        f'{x["found_accuracy"]:.2f} | {x["uniform_ratio"]:.3f} | '
        f'{x["uniform_mflops"]:.3f} | {x["uniform_accuracy"]:.2f} | '
        f'{x["gain"]:+.2f} |' for x in r['rows']]
    return '\n'.join([
        '```shell',
        *COMMANDS,
        '```',
        '',
        f'Measured with this command ({conditions_text(r)}; supernet '
        f'{duration(t["supernet"])}, search {duration(t["search"])}, '
        f'retraining {duration(t["retrain"])}, '
        f'{duration(r["wall_time_s"])} in all, seed {r["seed"]}).',
        '',
        f'**Supernet** ({sup["epochs"]} epochs): the largest width reaches '
        f'{sup["max_accuracy"]:.2f}% and the smallest '
        f'{sup["min_accuracy"]:.2f}% val top-1, BN recalibrated on '
        f'{r["val_calibrate_sample_num"]} images.',
        '',
        f'**Greedy search**: {s["steps"]} steps, {s["scored"]} subnets '
        f'scored (val top-1 on the first {r["search_val_images"]} val '
        f'images, BN recalibrated on {r["search_calibrate_sample_num"]} '
        'training images); with the network slimmed uniformly (every unit '
        'at 1/4 ... 4/4) scored the same way:',
        '',
        f'| subnet | {unit} | params (M) | score (%) |',
        '|---|---|---|---|',
        *search_rows,
        '',
        f'**Retraining** from scratch for {r["retrain_epochs"]} epochs: the '
        'three found subnets as one slimmable network, and for each the '
        'uniform width (one ratio of every unit\'s channels) with the most '
        'FLOPs not above it, the three as another; same data, schedule and '
        f'seed. Val top-1 (%) on the {r["val_images"]} val images:',
        '',
        f'| target ({unit}) | found {unit} | found | uniform ratio | '
        f'uniform {unit} | uniform | gain |',
        '|---|---|---|---|---|---|---|',
        *retrain_rows,
        '',
        f'Mean gain of the found widths: {r["mean_gain"]:+.2f} points.',
        '',
        f'![AutoSlim greedy search on digits: score against {unit}]'
        f'({link(r["plots"]["search"])})',
    ])


VIEWS = dict(results=results)
