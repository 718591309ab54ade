"""Retrieval quality on the held-out set (``paraphrases.py``): shared by the test that holds the goals and by
``bench/offline_retrieval.py``, which prints the figures."""

from dataclasses import dataclass, field

from agent.knowledge.demo_questions import DEMO_QUESTIONS
from agent.knowledge.retrieval import Index

from .paraphrases import FRESH_PARAPHRASES, FRESH_UNRELATED, PARAPHRASES, UNRELATED

SETS = {"tuned": (PARAPHRASES, UNRELATED), "fresh": (FRESH_PARAPHRASES, FRESH_UNRELATED)}


def demo_candidates() -> list[dict]:
    return [{"id": str(number), "question": q, "sql": sql} for number, (q, sql) in enumerate(DEMO_QUESTIONS, 1)]


@dataclass
class Report:
    threshold: float
    paraphrases: int = 0
    top1: int = 0  # the right saved question ranked first
    top3: int = 0  # ... among the first three
    answered: int = 0  # ranked first and scored at or above the threshold: offline mode runs the right SQL
    wrong_answers: list[tuple[str, str, float]] = field(default_factory=list)  # above threshold, wrong question
    missed: list[tuple[str, str, float]] = field(default_factory=list)  # right question below threshold / not 1st
    unrelated: int = 0
    false_matches: list[tuple[str, str, float]] = field(default_factory=list)  # unrelated, above threshold
    lowest_right: float = 1.0  # the lowest score of a right first answer
    highest_unrelated: float = 0.0  # the highest best score of an unrelated question

    def rate(self, count: int) -> float:
        return count / self.paraphrases if self.paraphrases else 0.0


def evaluate_set(
    index: Index, threshold: float, paraphrases: tuple[tuple[str, str], ...], unrelated: tuple[str, ...]
) -> Report:
    report = Report(threshold=threshold)
    for paraphrase, saved in paraphrases:
        found = index.search(paraphrase, limit=3)
        report.paraphrases += 1
        best = found[0] if found else None
        if best is not None and best["question"] == saved:
            report.top1 += 1
            report.lowest_right = min(report.lowest_right, best["score"])
        if any(c["question"] == saved for c in found):
            report.top3 += 1
        if best is not None and best["score"] >= threshold:
            if best["question"] == saved:
                report.answered += 1
            else:
                report.wrong_answers.append((paraphrase, best["question"], best["score"]))
        else:
            report.missed.append((paraphrase, best["question"] if best else "", best["score"] if best else 0.0))
    for question in unrelated:
        found = index.search(question, limit=1)
        report.unrelated += 1
        score = found[0]["score"] if found else 0.0
        report.highest_unrelated = max(report.highest_unrelated, score)
        if found and score >= threshold:
            report.false_matches.append((question, found[0]["question"], score))
    return report


def evaluate(index: Index, threshold: float, name: str = "tuned") -> Report:
    return evaluate_set(index, threshold, *SETS[name])
