# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/reproduce_figures.py``: the docs hold the kept figures, and a
rerun that differs is caught.

The demos themselves take minutes and are not run here; a tiny figure
module stands in for them to check the run, keep and check machinery.
"""
import copy
import json
import textwrap

import pytest

from .conftest import ROOT


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('reproduce_figures')


def test_docs_hold_the_rendering_of_the_kept_reports(tool):
    figures = tool.load_figures()
    shown = set()
    for page in tool.doc_pages():
        text = page.read_text()
        blocks = tool.find_blocks(text)
        shown |= {b['name'] for b in blocks}
        if blocks:
            rendered = tool.render_page(text, page, figures, {})
            assert rendered == text, (
                f'{page.relative_to(ROOT)} does not hold the rendering of '
                'the kept reports: python tools/reproduce_figures.py '
                '--render')
    # Every figure on a page has its kept report and plots; a figure module
    # on no page yet (its demo not run) has no kept report either.
    assert shown <= set(figures)
    for name in set(figures) - shown:
        assert not tool.kept_report_path(name).exists(), (
            f'{name} has a kept report but is on no page')
    for name in shown:
        report = tool.read_kept(name)
        for plot in (report.get('plots') or {}).values():
            assert (ROOT / plot).read_bytes()[:4] == b'\x89PNG'
    # Each view shows the commands that produce it.
    link = tool.linker(ROOT / 'README.md')
    for name in shown:
        for view, render in figures[name].VIEWS.items():
            text = render(tool.read_kept(name), link)
            for command in figures[name].COMMANDS:
                assert command in text, (name, view, command)


def test_drift_compares_all_but_the_volatile_keys(tool):
    figure = tool.load_figures()['spos-digits']
    kept = tool.read_kept('spos-digits')
    new = copy.deepcopy(kept)
    new['wall_time_s'] += 100
    new['latency_ms'] *= 2
    new['conditions'] = dict(date='2030-01-01')
    assert tool.drift(figure, kept, new) == []
    new['accuracy'] -= 1
    (diff, ) = [d for d in tool.drift(figure, kept, new) if 'table' in d]
    # A rerun's plot lies in its run folder until it is kept.
    kd = tool.read_kept('kd-digits')
    rerun = dict(copy.deepcopy(kd), plots=dict(per_epoch='work_dirs/r.png'))
    assert tool.drift(tool.load_figures()['kd-digits'], kd, rerun) == []
    assert '-| best subnet retrained' in diff
    assert f'{kept["accuracy"] - 1:.2f}%' in diff


FAKE_FIGURE = textwrap.dedent("""
    import json
    import os.path as osp

    NAME = 'fake'
    COMMANDS = ['python {script} --work-dir work_dirs/fake_run',
                'python {script}']
    RUN_ARGS = '--work-dir {{work_dir}}/other'
    VOLATILE = ()


    def collect(work_dir):
        with open(osp.join(work_dir, 'fake_run', 'r.json')) as f:
            return json.load(f)


    VIEWS = dict(text=lambda r, link: f'acc {{r["acc"]:.1f}}% ({{link("x")}})')
""")
# Writes {"acc": 90.5, "argv": [...]} into the folder it is given.
FAKE_DEMO = textwrap.dedent("""
    import json
    import os
    import sys

    folder = sys.argv[-1]
    os.makedirs(folder)
    with open(os.path.join(folder, 'r.json'), 'w') as f:
        json.dump(dict(acc=90.5, argv=sys.argv[1:]), f)
""")


def test_commands_run_in_a_fresh_work_dir(tool, tmp_path):
    folder = tmp_path / 'figures'
    folder.mkdir()
    script = tmp_path / 'fake_demo.py'
    script.write_text(FAKE_DEMO)
    (folder / 'fake.py').write_text(FAKE_FIGURE.format(script=script))
    figure = tool.load_figures(folder)['fake']
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    log = work_dir / 'commands.log'
    times = tool.run_commands(figure, work_dir, log)
    assert len(times) == 2
    # work_dirs/ became the fresh folder; the command without --work-dir
    # got RUN_ARGS.
    report = figure.collect(str(work_dir))
    assert report == dict(
        acc=90.5, argv=['--work-dir', str(work_dir / 'fake_run')])
    other = json.loads((work_dir / 'other' / 'r.json').read_text())
    assert other['argv'] == ['--work-dir', str(work_dir / 'other')]
    assert figure.VIEWS['text'](report, str) == 'acc 90.5% (x)'
    assert tool.drift(figure, dict(report), report) == []
    assert tool.drift(figure, dict(report, acc=91.0), report)

    # A failing command names itself and shows the end of its log.
    figure.COMMANDS = ['python -c "raise SystemExit(3)"']
    with pytest.raises(RuntimeError, match='exited with 3'):
        tool.run_commands(figure, work_dir, log)


def test_unknown_figure_in_a_page_is_named(tool, tmp_path):
    text = '<!-- figure: nope table -->\nold\n<!-- /figure -->\n'
    with pytest.raises(KeyError, match="no figure module defines 'nope'"):
        tool.render_page(text, ROOT / 'README.md', tool.load_figures(), {})
    figures = tool.load_figures()
    text = '<!-- figure: spos-digits nope -->\nold\n<!-- /figure -->\n'
    with pytest.raises(KeyError, match="has no view 'nope'"):
        tool.render_page(text, ROOT / 'README.md', figures, {})
    assert json.loads(tool.kept_report_path('spos-digits').read_text())
