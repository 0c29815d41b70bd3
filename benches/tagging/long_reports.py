#!/usr/bin/env python3
"""Long reports made of real labelled pages: does evidex tag each statement a report dwells on?

The labelled real-page sets are excerpts (about 300 words each), but councils keep long
documents: annual reports and CQC assessments with a section per statement, and reports about
one thing that touch others in passing. This builds such reports from single-statement pages of
labelled sets (folders with `labels.csv` and `docs/`, as `schema/model/train.py` reads them)
and runs `evidex eval` on them:

- cqcN: the nine statements in order, each under its name, a "Score: 3" line and its wording
  (as a CQC assessment report reads once its PDF is text), two real pages each;
- contigN: the same sections with no headings; shufN: the same pages shuffled;
- fourN: four statements, two pages each; dom_QSn: six pages on one statement and two pages
  about other council services; aside_QSn: seven pages on one statement and one on another
  (a minor topic, not labelled: a tag for it counts as "tagged beyond").

    cargo build --release
    python3 benches/tagging/long_reports.py SET_DIR... [--seed 1] [--framework FILE]

It prints, per kind, statements found of those labelled and statements tagged that were not.
"""
import argparse, collections, csv, os, random, re, subprocess, sys, tempfile

TITLES = {
    "QS1": "Assessing needs",
    "QS2": "Supporting people to live healthier lives",
    "QS3": "Equity in experience and outcomes",
    "QS4": "Care provision, integration and continuity",
    "QS5": "Partnerships and communities",
    "QS6": "Safe systems, pathways and transitions",
    "QS7": "Safeguarding",
    "QS8": "Governance, management and sustainability",
    "QS9": "Learning, improvement and innovation",
}


def pages(sets):
    by, neg = collections.defaultdict(list), []
    for s in sets:
        with open(os.path.join(s, "labels.csv"), newline="") as f:
            for row in csv.DictReader(f):
                qs = [q.strip() for q in row["statements"].split(";") if q.strip()]
                path = os.path.join(s, "docs", row["file"])
                if len(qs) == 1:
                    by[qs[0]].append(path)
                elif not qs:
                    neg.append(path)
    return by, neg


def body(path):
    with open(path, errors="replace") as f:
        parts = f.read().split("\n", 1)
    return parts[-1]


def build(sets, out, seed):
    rng = random.Random(seed)
    by, neg = pages(sets)
    os.makedirs(os.path.join(out, "docs"))
    rows = []

    def write(name, text, labels):
        with open(os.path.join(out, "docs", name), "w") as f:
            f.write(text)
        rows.append((name, ";".join(labels)))

    for k in range(3):
        secs = [(q, rng.sample(by[q], 2)) for q in TITLES]
        text = "\n\n".join(
            f"{TITLES[q]}\nScore: 3\n3 - Evidence shows a good standard\n"
            + "\n\n".join(body(p) for p in ps)
            for q, ps in secs
        )
        write(f"cqc{k}.txt", "Local authority assessment\n\n" + text, TITLES)
        text = "\n\n".join("\n\n".join(body(p) for p in ps) for _, ps in secs)
        write(f"contig{k}.txt", "Annual report\n\n" + text, TITLES)
        shuffled = [p for _, ps in secs for p in ps]
        rng.shuffle(shuffled)
        write(f"shuf{k}.txt", "Report\n\n" + "\n\n".join(body(p) for p in shuffled), TITLES)
        four = rng.sample(list(TITLES), 4)
        text = "\n\n".join("\n\n".join(body(p) for p in rng.sample(by[q], 2)) for q in four)
        write(f"four{k}.txt", "Report\n\n" + text, sorted(four))
    for q in TITLES:
        ps = rng.sample(by[q], 6) + rng.sample(neg, 2)
        rng.shuffle(ps)
        write(f"dom_{q}.txt", "Report\n\n" + "\n\n".join(body(p) for p in ps), [q])
        # One page on another statement among seven on this one: a minor topic, not labelled.
        other = rng.choice([o for o in TITLES if o != q])
        ps = rng.sample(by[q], 7) + rng.sample(by[other], 1)
        rng.shuffle(ps)
        write(f"aside_{q}.txt", "Report\n\n" + "\n\n".join(body(p) for p in ps), [q])
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "statements", "category", "doc_type", "date"])
        for name, labels in rows:
            w.writerow([name, labels, "processes", "report", ""])


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--binary", default=os.path.join(root, "target", "release", "evidex"))
    ap.add_argument("--framework", help="framework file to tag with (default: built-in)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "long")
        build(a.sets, out, a.seed)
        cmd = [a.binary, "eval", out, "--verbose", "--color", "never"]
        if a.framework:
            cmd += ["--framework", a.framework]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    found, total, extra = collections.Counter(), collections.Counter(), collections.Counter()
    for line in res.splitlines():
        m = re.search(r"(\S+)\s+gold \[([^\]]*)\] got \[([^\]]*)\]", line)
        if not m:
            continue
        kind = re.sub(r"(\d+|_QS\d)\.txt$", "", m.group(1).lstrip("*!"))
        gold, got = set(m.group(2).split()), set(m.group(3).split())
        found[kind] += len(gold & got)
        total[kind] += len(gold)
        extra[kind] += len(got - gold)
    for kind in sorted(total):
        print(f"{kind:8} {found[kind]:3} of {total[kind]:3} statements found, {extra[kind]} tagged beyond")


if __name__ == "__main__":
    sys.exit(main())
