"""Writes the distinct-steps benchmark pipeline for the kfp SDK and for Hera, as a user writes it:
one component (kfp) or one Container template (Hera) per step, each with its own image and
command, reading one File (two where a diamond joins) and writing one. It is the pipeline of
`generate::distinct` in tests/lib.rs; the two must change together. Every step sets cpu and
memory requests and every other one retries; the `-plain` shapes (`chain-plain`,
`diamond-plain`, `generate::distinct_plain`) set neither, as the issue's pipeline.

    python distinct_peers.py N chain|diamond|chain-plain|diamond-plain KFP_OUT.py HERA_OUT.py

The written programs are then timed as whole processes: `python KFP_OUT.py out.yaml`.
"""
import sys


def inputs(shape, i):
    """The indices of the steps whose Files step i (> 0) reads, as Shape::inputs does."""
    if shape == 'chain' or i % 3 == 1:
        return [i - 1]
    if i % 3 == 2:
        return [i - 2]
    return [i - 2, i - 1]


def names(n):
    return ['input'] if n == 1 else ['left', 'right']


def image(i):
    return f'registry.example.com/step-{i}:1.{i % 7}'


def kfp_program(n, shape, settings):
    out = ['import sys', 'from kfp import compiler, dsl', 'from kfp.dsl import Artifact, Input, Output', '']
    for i in range(n):
        if i == 0:
            params, args = 'day: str', "'--day', day"
        else:
            ins = names(len(inputs(shape, i)))
            params = ', '.join(f'{x}: Input[Artifact]' for x in ins) + ', factor: float'
            args = ', '.join(f"'--{x}', {x}.path" for x in ins) + ", '--factor', factor"
        out += ['', '@dsl.container_component',
                f'def s{i}({params}, out: Output[Artifact]):',
                f"    return dsl.ContainerSpec(image='{image(i)}', command=['python'],",
                f"                             args=['-m', 'steps.s{i}', {args}, '--out', out.path])", '']
    out += ['', "@dsl.pipeline(name='distinct')", "def distinct(day: str = '2024-01-01', factor: float = 1.5):"]
    for i in range(n):
        if i == 0:
            call = 's0(day=day)'
        else:
            js = inputs(shape, i)
            args = ', '.join(f"{x}=r{j}.outputs['out']" for x, j in zip(names(len(js)), js))
            call = f's{i}({args}, factor=factor)'
        if not settings:
            out.append(f"    r{i} = {call}")
            continue
        out.append(f"    r{i} = {call}.set_cpu_request('250m').set_memory_request('512Mi')")
        if i % 2 == 1:
            out.append(f"    r{i}.set_retry(num_retries=2, backoff_duration='10s')")
    out += ['', '', 'compiler.Compiler().compile(distinct, sys.argv[1])', '']
    return '\n'.join(out)


def hera_program(n, shape, settings):
    out = ['import sys',
           'from hera.workflows import (DAG, Artifact, Container, Parameter, Resources, RetryStrategy,',
           '                            WorkflowTemplate)',
           'from hera.workflows.models import Backoff', '',
           "with WorkflowTemplate(name='distinct', entrypoint='main', arguments=[",
           "        Parameter(name='day', value='2024-01-01'), Parameter(name='factor', value='1.5')]) as w:"]
    for i in range(n):
        if i == 0:
            ins, args = "[Parameter(name='day')]", "'--day', '{{inputs.parameters.day}}'"
        else:
            xs = names(len(inputs(shape, i)))
            ins = '[' + ', '.join(f"Artifact(name='{x}', path='/tmp/in/{x}')" for x in xs) + ", Parameter(name='factor')]"
            args = ', '.join(f"'--{x}', '/tmp/in/{x}'" for x in xs) + ", '--factor', '{{inputs.parameters.factor}}'"
        retry = ",\n        retry_strategy=RetryStrategy(limit='2', backoff=Backoff(duration='10s'))" if i % 2 == 1 else ''
        resources = "resources=Resources(cpu_request='250m', memory_request='512Mi')" + retry
        out_artifacts = "outputs=[Artifact(name='out', path='/tmp/out')]" + (',' if settings else ')')
        out += [f"    s{i} = Container(name='s{i}', image='{image(i)}', command=['python'],",
                f"        args=['-m', 'steps.s{i}', {args}, '--out', '/tmp/out'],",
                f"        inputs={ins}, {out_artifacts}"]
        if settings:
            out.append(f"        {resources})")
    out.append("    with DAG(name='main'):")
    for i in range(n):
        if i == 0:
            out.append("        r0 = s0(name='r0', arguments={'day': '{{workflow.parameters.day}}'})")
            continue
        js = inputs(shape, i)
        arts = ', '.join(f"r{j}.get_artifact('out').with_name('{x}')" for x, j in zip(names(len(js)), js))
        out.append(f"        r{i} = s{i}(name='r{i}', arguments=[{arts}, "
                   "Parameter(name='factor', value='{{workflow.parameters.factor}}')])")
        out.append(f"        [{', '.join(f'r{j}' for j in js)}] >> r{i}")
    out += ['', "with open(sys.argv[1], 'w') as f:", '    f.write(w.to_yaml())', '']
    return '\n'.join(out)


def main():
    n, name, kfp_out, hera_out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    shape = name.removesuffix('-plain')
    settings = shape == name
    if shape not in ('chain', 'diamond'):
        sys.exit(f'distinct_peers.py: unknown shape {name!r}; use chain, diamond, chain-plain or diamond-plain')
    with open(kfp_out, 'w') as f:
        f.write(kfp_program(n, shape, settings))
    with open(hera_out, 'w') as f:
        f.write(hera_program(n, shape, settings))


if __name__ == '__main__':
    main()
