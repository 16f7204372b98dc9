# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of the AutoSlim digits commands of the pruning guide."""
import json
import os.path as osp
from typing import Any, Callable, Dict, List

from _figure_common import conditions_text, duration, newest_run, read_json

NAME = 'autoslim-digits'
DEMO = 'configs/pruning/mmcls/autoslim/demo'
COMMANDS = [
    'OMP_WAIT_POLICY=PASSIVE python tools/train.py \\\n'
    f'    {DEMO}/autoslim_mbv2_supernet_digits.py \\\n'
    '    --work-dir work_dirs/autoslim_digits',
    'OMP_WAIT_POLICY=PASSIVE python tools/train.py \\\n'
    f'    {DEMO}/autoslim_mbv2_search_digits.py \\\n'
    '    --work-dir work_dirs/autoslim_digits_search \\\n'
    '    --cfg-options load_from=work_dirs/autoslim_digits/epoch_10.pth',
]


def _config(name: str):
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return Config.fromfile(osp.join(repo, DEMO, name))


def collect(work_dir: str) -> Dict[str, Any]:
    """Supernet val metrics, search summary and plot of ``work_dir``."""
    run = newest_run(osp.join(work_dir, 'autoslim_digits'),
                     marker='vis_data/scalars.json')
    with open(osp.join(run, 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f if line.strip()]
    val = [r for r in records if 'max_subnet.accuracy/top1' in r][-1]
    search_dir = osp.join(work_dir, 'autoslim_digits_search')
    summary = read_json(osp.join(search_dir, 'greedy_search_summary.json'))
    for row in summary['targets']:
        row['subnet'] = osp.basename(row['subnet'])
    supernet_cfg = _config('autoslim_mbv2_supernet_digits.py')
    search_cfg = _config('autoslim_mbv2_search_digits.py').train_cfg
    return dict(
        supernet_epochs=val['step'],
        max_accuracy=val['max_subnet.accuracy/top1'],
        min_accuracy=val['min_subnet.accuracy/top1'],
        val_calibrate_sample_num=supernet_cfg.val_cfg.calibrate_sample_num,
        search_val_images=search_cfg.dataloader.dataset.indices,
        search_calibrate_sample_num=search_cfg.calibrate_sample_num,
        search=summary,
        plots=dict(search=osp.join(search_dir, 'greedy_search.png')))


def results(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    s = r['search']
    unit = f'{s["flops_unit"]}FLOPs'
    smallest = min(s['uniform'], key=lambda row: row['flops'])
    times = (r.get('conditions') or {}).get('command_times_s')
    took = (f'; supernet {duration(times[0])}, search {duration(times[1])}'
            if times else '')
    rows = [f'| full width | {s["start"]["flops"]:.3f} | '
            f'{s["start"]["params"]:.3f} | {s["start"]["score"]:.2f} |']
    rows += [f'| target {t["target"]:g} {unit} (`{t["subnet"]}`) | '
             f'{t["flops"]:.3f} | {t["params"]:.3f} | {t["score"]:.2f} |'
             for t in s['targets']]
    rows += [f'| uniform width {u["width"]} | {u["flops"]:.3f} | '
             f'{u["params"]:.3f} | {u["score"]:.2f} |'
             for u in s['uniform']]
    return '\n'.join([
        '```shell',
        *COMMANDS,
        '```',
        '',
        f'Measured with these two commands ({conditions_text(r)}{took}): '
        f'after {r["supernet_epochs"]} epochs the largest width reaches '
        f'{r["max_accuracy"]:.2f}% and the smallest ({smallest["flops"]:.3f} '
        f'{unit}) {r["min_accuracy"]:.2f}% val top-1, BN recalibrated on '
        f'{r["val_calibrate_sample_num"]} images. The greedy search took '
        f'{s["steps"]} steps and scored {s["scored"]} subnets (score: val '
        f'top-1 on the first {r["search_val_images"]} val images, BN '
        f'recalibrated on {r["search_calibrate_sample_num"]} training '
        'images); its summary, with the network slimmed uniformly scored '
        'the same way:',
        '',
        f'| subnet | {unit} | params (M) | score (%) |',
        '|---|---|---|---|',
        *rows,
        '',
        *_comparison(s, unit),
        '',
        f'![AutoSlim greedy search on digits: score against {unit}]'
        f'({link(r["plots"]["search"])})',
    ])


def _comparison(s: Dict[str, Any], unit: str) -> List[str]:
    """Each found subnet against the widest uniform width at or below its
    FLOPs."""
    lines = []
    for t in s['targets']:
        below = [u for u in s['uniform'] if u['flops'] <= t['flops']]
        if not below:
            continue
        u = max(below, key=lambda row: row['flops'])
        lines.append(
            f'- target {t["target"]:g} {unit}: found {t["score"]:.2f}% at '
            f'{t["flops"]:.3f} {unit}, uniform width {u["width"]} '
            f'{u["score"]:.2f}% at {u["flops"]:.3f} {unit} '
            f'({t["score"] - u["score"]:+.2f} points)')
    return ['Each found subnet against the widest uniform width with no more '
            'FLOPs:', ''] + lines if lines else []


VIEWS = dict(results=results)
