"""Retrieval backends side by side (BM25, embeddings) on the held-out paraphrase set, and search latency.

::

    .venv/bin/python bench/retrieval_backends.py                 # BM25 only if the embedding extra is absent
    /tmp/venv/bin/python bench/retrieval_backends.py --sizes 100 10000 100000 --queries 300

Quality, per backend and set ("tuned"/"fresh", agent/tests/knowledge/paraphrases.py), at the offline
answerer's ``MATCH_THRESHOLD`` (embedding cosines are mapped onto that scale, ``embeddings.calibrated``):
top-1, top-3, answered (right SQL run), wrong (another question's SQL run), false matches on the unrelated
questions; then, for embeddings, a sweep of the cosine threshold on the tuned set.

Latency: the synthetic corpus of bench/offline_retrieval.py (demo questions with extra made-up words) at each
size; "build s" is a cold index (for embeddings: every question encoded, vectors kept in an in-memory store),
"rebuild s" the same corpus again (embeddings: nothing re-encoded, vectors read from the store); above
--encoded-up-to memories the embedding corpus gets random stored vectors instead (build not measured); then
--queries searches (limit 5) round-robin over the paraphrases: p50, p95 in ms (embeddings: the question is
encoded at each search). Pure CPU, no database; vectors are not written to disk.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True
BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")

SWEEP = (0.6, 0.65, 0.68, 0.7, 0.72, 0.75, 0.78, 0.8)


def pct(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.1f} %)"


def builders():
    from agent.knowledge import embeddings
    from agent.knowledge.retrieval import Index
    from agent.knowledge.synonyms import DOMAIN_SYNONYMS, Synonyms

    found = {"bm25": lambda corpus: Index(corpus, Synonyms(DOMAIN_SYNONYMS))}
    if embeddings.missing_packages():
        print(f"embeddings: not installed here (missing {', '.join(embeddings.missing_packages())}); BM25 only")
        return found, None
    start = time.perf_counter()
    encoder = embeddings.model_encoder()
    encoder(["warm up"])
    print(f"embeddings: {embeddings.MODEL_PACKAGE} loaded offline in {time.perf_counter() - start:.1f} s")
    store = embeddings.VectorStore(embeddings.DIMENSIONS)  # shared: a rebuild re-encodes nothing
    asked: dict[str, object] = {}

    def quality_encoder(texts):  # the sweep re-asks the same questions: encode each once
        if len(texts) != 1 or texts[0] not in asked:
            vectors = encoder(texts)
            if len(texts) == 1:
                asked[texts[0]] = vectors
            return vectors
        return asked[texts[0]]

    found["embeddings"] = lambda corpus: embeddings.EmbeddingIndex(corpus, quality_encoder, store)
    found["embeddings-raw"] = lambda corpus: embeddings.EmbeddingIndex(corpus, encoder, store)
    return found, embeddings


def quality(build, embeddings) -> None:
    from agent.engine.offline import MATCH_THRESHOLD
    from agent.tests.knowledge.evaluate import SETS, demo_candidates, evaluate

    print(f"\nQuality at MATCH_THRESHOLD = {MATCH_THRESHOLD}")
    print("  backend     set     top-1              top-3              answered           wrong  false")
    indexes = {name: make(demo_candidates()) for name, make in build.items() if name != "embeddings-raw"}
    for name, index in indexes.items():
        for set_name in SETS:
            r = evaluate(index, MATCH_THRESHOLD, set_name)
            print(
                f"  {name:<11} {set_name:<7} {pct(r.top1, r.paraphrases):<18} {pct(r.top3, r.paraphrases):<18} "
                f"{pct(r.answered, r.paraphrases):<18} {len(r.wrong_answers):>5}  "
                f"{len(r.false_matches)}/{r.unrelated}"
            )
    if embeddings is None:
        return
    index = indexes["embeddings"]
    print("\nCosine threshold sweep (embeddings): threshold, set, answered, wrong, false matches")
    for threshold in SWEEP:
        index.threshold = threshold
        for set_name in SETS:
            r = evaluate(index, MATCH_THRESHOLD, set_name)
            print(
                f"  {threshold:.2f}  {set_name:<6} {pct(r.answered, r.paraphrases):>16}  "
                f"{len(r.wrong_answers):>3}  {len(r.false_matches):>3}/{r.unrelated}"
            )
    index.threshold = embeddings.COSINE_THRESHOLD


def latency(build, sizes: list[int], queries: int, encoded_up_to: int) -> None:
    from offline_retrieval import percentile, synthetic_corpus  # the same corpus as BM25's bench

    from agent.tests.knowledge.evaluate import SETS

    asked = [p for p, _q in SETS["tuned"][0]]
    print(
        f"\nSearch latency (limit 5), {queries} searches per size; Python {platform.python_version()} "
        f"on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("  backend      memories   build s   rebuild s   p50 ms   p95 ms")
    for size in sizes:
        corpus = synthetic_corpus(size, random.Random(15))
        for name, make in build.items():
            if name == "embeddings":
                continue  # the quality encoder (memo); latency encodes every question asked
            if name == "embeddings-raw" and size > encoded_up_to:
                index, cold, rebuild = prefilled(corpus, make), float("nan"), float("nan")
            else:
                start = time.perf_counter()
                make(corpus)
                cold = time.perf_counter() - start
                start = time.perf_counter()
                index = make(corpus)
                rebuild = time.perf_counter() - start
            for question in asked[:10]:
                index.search(question, 5)
            samples = []
            for n in range(queries):
                start = time.perf_counter()
                index.search(asked[n % len(asked)], 5)
                samples.append((time.perf_counter() - start) * 1000)
            print(
                f"  {name:<11} {size:>9,}   {cold:>7.2f}   {rebuild:>9.2f}   {percentile(samples, 0.5):>6.2f}   "
                f"{percentile(samples, 0.95):>6.2f}",
                flush=True,
            )


def prefilled(corpus, make):
    """An embedding index of ``corpus`` whose vectors are random unit vectors put in the store beforehand
    (encoding 100,000 questions on a small CPU takes long, and a search's cost does not depend on the values:
    one question encoded, one (n, 384) matrix-vector product, a partial sort)."""
    import numpy as np

    from agent.knowledge import embeddings

    index = make(corpus[:1])
    rng = np.random.default_rng(15)
    for candidate in corpus:
        vector = rng.standard_normal(embeddings.DIMENSIONS).astype(np.float32)
        index.store.vectors[index.store.digest(candidate["question"])] = vector / np.linalg.norm(vector)
    return make(corpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--encoded-up-to", type=int, default=10_000, help="larger corpora get stored random vectors (embeddings)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(BASE_DIR / "bench"))
    import django

    django.setup()
    build, embeddings = builders()
    if not args.skip_quality:
        quality(build, embeddings)
    if not args.skip_latency:
        latency(build, args.sizes, args.queries, args.encoded_up_to)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
