#!/usr/bin/env python3
"""Train the text model that evidex blends with its cue scores (schema/cqc-la.model.json).

The model is a linear classifier over words and word pairs (tf-idf, logistic regression):
one yes/no model per quality statement and one model choosing the evidence category. It is
trained on labelled sets of real public pages, each a folder holding `labels.csv` (columns
`file,statements,category`; statements separated by `;`, empty for a page that belongs to no
statement) and `docs/` with the pages' text. The labels of the sets the shipped model was
trained on are in `schema/model/labels/` (with each page's address); the pages themselves are
other people's text and are not in the repository.

    pip install scikit-learn==1.9.1 numpy
    python3 schema/model/train.py SET_DIR... --out schema/cqc-la.model.json

    # Leave-one-set-out check of the whole tagger (cues + model) through the real binary:
    # each set is tagged by a model trained on the other sets.
    cargo build --release
    python3 schema/model/train.py SET_DIR... --cv

The words are read exactly as evidex reads them (src/model.rs): lower case, accents folded,
apostrophes dropped, every other non-alphanumeric character a break; the first `MAX_WORDS`
words; words of one character dropped; pairs of neighbouring kept words.
"""
import argparse, csv, json, os, re, shutil, subprocess, sys, tempfile, unicodedata

MAX_WORDS = 3000
MIN_DF = 5
MAX_FEATURES = 5000
C = 10.0
STATEMENTS = ["QS%d" % i for i in range(1, 10)]
CATEGORIES = ["people_experience", "staff_leaders", "partners", "processes"]


def words(text):
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub("['\u2019\u2018`\u02bc]", "", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(t.split()[:MAX_WORDS])


def load(folder):
    docs = []
    with open(os.path.join(folder, "labels.csv"), newline="") as f:
        for row in csv.DictReader(f):
            path = os.path.join(folder, "docs", row["file"])
            with open(path, errors="replace") as t:
                text = words(t.read())
            qs = {q.strip() for q in row["statements"].split(";") if q.strip()}
            docs.append((text, qs, row.get("category", "").strip()))
    return docs


def train(docs):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=MIN_DF, max_features=MAX_FEATURES,
                          sublinear_tf=True, token_pattern=r"\S\S+", lowercase=False)
    X = vec.fit_transform([d[0] for d in docs])
    terms = vec.get_feature_names_out().tolist()
    st_w, st_b = [], []
    for q in STATEMENTS:
        y = np.array([1 if q in d[1] else 0 for d in docs])
        clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(X, y)
        st_w.append(clf.coef_[0]); st_b.append(clf.intercept_[0])
    rows = [i for i, d in enumerate(docs) if d[2] in CATEGORIES]
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    clf.fit(X[rows], [docs[i][2] for i in rows])
    order = [list(clf.classes_).index(c) for c in CATEGORIES]
    r = lambda xs: [round(float(x), 4) for x in xs]
    return {
        "format": "evidex-text-model/1",
        "about": "tf-idf over words and word pairs, logistic regression; trained by "
                 "schema/model/train.py on %d labelled real public pages" % len(docs),
        "max_words": MAX_WORDS,
        "terms": terms,
        "idf": r(vec.idf_),
        "statements": {"labels": STATEMENTS, "intercept": r(st_b), "weights": [r(w) for w in st_w]},
        "categories": {"labels": CATEGORIES, "intercept": r(clf.intercept_[order]),
                       "weights": [r(clf.coef_[i]) for i in order]},
    }


def write(model, path):
    with open(path, "w") as f:
        json.dump(model, f, separators=(",", ":"))
        f.write("\n")


def cv(sets, binary, framework):
    data = {s: load(s) for s in sets}
    tmp = tempfile.mkdtemp()
    try:
        fw = os.path.join(tmp, "framework.toml")
        shutil.copy(framework, fw)
        model = os.path.join(tmp, os.path.basename(json_name(framework)))
        for held in sets:
            write(train([d for s in sets if s != held for d in data[s]]), model)
            out = subprocess.run([binary, "eval", held, "--framework", fw],
                                 capture_output=True, text=True, check=True).stdout
            f1 = re.search(r"macro-F1 ([0-9.]+)", out).group(1)
            cat = re.search(r"category accuracy ([0-9.]+)", out).group(1)
            neg = re.search(r"negatives with no statement (\S+)", out).group(1)
            print("%-40s macro-F1 %s  category accuracy %s  negatives untagged %s"
                  % (held, f1, cat, neg), flush=True)
    finally:
        shutil.rmtree(tmp)


def json_name(framework):
    with open(framework) as f:
        m = re.search(r'^\s*file\s*=\s*"([^"]+)"', f.read(), re.M)
    if not m:
        sys.exit("%s has no [model] file" % framework)
    return m.group(1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--out", default=os.path.join(root, "schema", "cqc-la.model.json"))
    ap.add_argument("--cv", action="store_true", help="leave-one-set-out check instead")
    ap.add_argument("--binary", default=os.path.join(root, "target", "release", "evidex"))
    ap.add_argument("--framework", default=os.path.join(root, "schema", "cqc-la.toml"))
    a = ap.parse_args()
    if a.cv:
        cv(a.sets, a.binary, a.framework)
    else:
        write(train([d for s in a.sets for d in load(s)]), a.out)


if __name__ == "__main__":
    main()
