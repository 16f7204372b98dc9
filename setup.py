"""Packaging of mmrazor: model compression (NAS, pruning, distillation)."""
import os.path as osp
from typing import List

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> List[str]:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = []
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line and not line.startswith('-'):
                lines.append(line)
    return lines


def get_version() -> str:
    """Read ``__version__`` from ``mmrazor/version.py`` without importing."""
    scope: dict = {}
    with open(osp.join(HERE, 'mmrazor', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


if __name__ == '__main__':
    setup(
        name='mmrazor',
        version=get_version(),
        description='Model compression toolkit for the OpenMMLab ecosystem: '
        'NAS, channel pruning and knowledge distillation',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='computer vision, model compression, NAS, pruning, '
        'knowledge distillation',
        packages=find_packages(include=('mmrazor', 'mmrazor.*')),
        include_package_data=True,
        python_requires='>=3.10',
        license='Apache License 2.0',
        install_requires=read_requirements('runtime'),
        extras_require={
            'tests': read_requirements('tests'),
            'optional': read_requirements('optional'),
            # peer libraries the benchmarks measure against
            'benchmark': read_requirements('benchmark'),
            'all': read_requirements('tests') +
            read_requirements('optional') + read_requirements('benchmark'),
        },
        classifiers=[
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.11',
        ],
        zip_safe=False)
