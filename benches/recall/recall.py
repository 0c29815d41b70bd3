#!/usr/bin/env python3
"""Word recall of `evidex extract` against the reference extractors a librarian would trust:
pdftotext (poppler-utils) for PDF, pandoc for DOCX and ODT.

    cargo build --release && python3 benches/recall/recall.py [FOLDER]   # default: ../shared/corpora/real-world

For each file the reference's words (lower-cased \\w+ runs, with multiplicity) are counted, and
recall is the share of them that evidex's text also has. Prints the aggregate (all words of
all files) and the mean per file, per format, and lists files under 90%.
"""
import collections, glob, os, re, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, '..', 'shared', 'corpora', 'real-world')
evidex = os.path.join(repo, 'target', 'release', 'evidex')


def words(t):
    return collections.Counter(w.lower() for w in re.findall(r"\w+", t))


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None
    return p.stdout.decode('utf-8', 'replace') if p.returncode == 0 else ''


def reference(f, ext):
    if ext == 'pdf':
        return run(['pdftotext', '-q', '-enc', 'UTF-8', f, '-'])
    if ext in ('docx', 'odt'):
        return run(['pandoc', '-t', 'plain', '--wrap=none', f])
    return None


tot = collections.defaultdict(lambda: [0, 0])
per = collections.defaultdict(list)
low = []
for f in sorted(glob.glob(os.path.join(root, '**', '*.*'), recursive=True)):
    ext = f.rsplit('.', 1)[-1].lower()
    ref = reference(f, ext)
    if not ref:
        continue
    rw = words(ref)
    n = sum(rw.values())
    if n < 5:
        continue
    out = run([evidex, 'extract', '--text', f]) or ''
    ow = words(out)
    found = sum(min(c, ow[w]) for w, c in rw.items())
    tot[ext][0] += found
    tot[ext][1] += n
    per[ext].append(found / n)
    if found / n < 0.9:
        low.append((round(found / n, 2), n, os.path.relpath(f, root)))
for ext in sorted(tot):
    print(f"{ext}: aggregate {tot[ext][0] / tot[ext][1]:.3f}, mean {sum(per[ext]) / len(per[ext]):.3f}, files {len(per[ext])}")
a = sum(v[0] for v in tot.values())
b = sum(v[1] for v in tot.values())
allp = [x for v in per.values() for x in v]
print(f"all: aggregate {a / b:.3f}, mean {sum(allp) / len(allp):.3f}, files {len(allp)}")
for line in sorted(low):
    print('  under 90%:', *line)
