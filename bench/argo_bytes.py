"""Where the bytes of an Argo workflow go: python argo_bytes.py WORKFLOW.yaml [STEPS]

Attributes every line of the YAML (as written, indentation included) to the field it belongs
to: for step templates `template.<field>` (one level down for `inputs`, `outputs` and
`container`), for DAG tasks `task.<field>` (arguments by parameter name), and prints the
bytes of each, per step when STEPS is given. Lines are attributed by indentation, so the
figures are exactly the file's bytes. Used for the Argo size notes in docs/perf.md.
"""
import re
import sys
from collections import Counter

KEY = re.compile(r'^( *)(- )?"?([^":]+)"?:')


def attribute(lines):
    counts = Counter()
    stack = []  # (indent, key) of the open mappings
    where = None  # 'template' or 'task' while inside one
    param = None
    for line in lines:
        size = len(line) + 1
        m = KEY.match(line)
        if m:
            indent = len(m.group(1)) + (2 if m.group(2) else 0)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, m.group(3)))
        keys = [k for _, k in stack]
        if 'tasks' in keys:
            i = keys.index('tasks')
            field = keys[i + 1] if len(keys) > i + 1 else 'name'
            if field == 'arguments' and len(keys) > i + 2:
                named_line = re.search(r'name: "?([^"]+)"?$', line)
                if keys[-1] == 'name' and named_line:
                    param = named_line.group(1)
                named = keys[i + 2] == 'parameters' and keys[-1] != 'parameters'
                field = f'arguments.{keys[i + 2]}' + (f'.{param}' if named else '')
            counts['task.' + field] += size
        elif 'templates' in keys:
            i = keys.index('templates')
            rest = keys[i + 1:]
            field = rest[0] if rest else 'name'
            if field in ('inputs', 'outputs', 'container') and len(rest) > 1:
                field += '.' + rest[1]
            counts['template.' + field] += size
        else:
            counts['spec and metadata'] += size
    return counts


def json_bytes(text):
    """The documents as compact JSON, as the Kubernetes API server stores them, or None."""
    try:
        import json
        import yaml
    except ImportError:
        return None
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    return sum(len(json.dumps(d, separators=(',', ':'), ensure_ascii=False, default=str).encode()) for d in docs)


def main():
    text = open(sys.argv[1], encoding='utf-8').read()
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    counts = attribute(text.split('\n'))
    total = sum(counts.values())
    print(f'{total} bytes, {total / steps:.0f} a step')
    stored = json_bytes(text)
    if stored is not None:
        print(f'{stored} bytes as stored (compact JSON), {stored / steps:.0f} a step')
    print('| field | bytes a step | share |')
    print('|---|---:|---:|')
    for field, n in counts.most_common():
        if n / total >= 0.005:
            print(f'| {field} | {n / steps:.0f} | {100 * n / total:.1f}% |')


if __name__ == '__main__':
    main()
