"""What a prompt asks for, read with word rules: the target, the model(s), and the cleaning steps.

Only the phrases are found here; ``planner`` resolves them against the dataset's real columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flows.generate.matching import STOPWORDS, stem, words

_VERB = (r"(?:drop|remove|delete|exclude|ignore|fill|impute|replace|normali[sz]e|scale|standardi[sz]e|one[- ]?hot|"
         r"encode|register|save|publish|use|train|predict|classify|compare|evaluate|split|hold|forecast|estimate|"
         r"keep|then)")
# Clauses end at sentence punctuation, or at a comma / "and" / "then" that starts a new instruction.
_CLAUSE_BREAK = re.compile(rf"[.;!?\n]+|,?\s*\b(?:and\s+then|then|and)\b\s*(?={_VERB}\b)|,\s*(?={_VERB}\b)", re.I)
_STOP = r"(?=\s+(?:from|with|using|on|in|based|given|via|after|so|through|by)\b|[,.;!?]|\s+and\s|$)"
_TARGET = [
    re.compile(rf"\b(?:predict(?:s|ing)?|forecast(?:s|ing)?|estimat(?:e|es|ing)|classify(?:ing)?|guess|regress)\s+"
               rf"(?!(?:a|the)?\s*(?:model|classifier|regressor)\b)(?P<p>.+?){_STOP}", re.I),
    re.compile(rf"\b(?:classifier|regressor|model)\s+(?:for|of|that\s+predicts)\s+(?P<p>.+?){_STOP}", re.I),
    re.compile(rf"\b(?:regression|classification)\s+(?:of|for)\s+(?P<p>.+?){_STOP}", re.I),
    re.compile(r"\btarget(?:\s+column)?\s*(?:is|=|:)?\s+[\"'`]?(?P<p>[^\"'`,.;]+?)[\"'`]?(?=[,.;]|\s+(?:and|with|"
               r"using|from)\b|$)", re.I),
    re.compile(r"[\"'`]?(?P<p>[\w ./()-]+?)[\"'`]?\s+as\s+(?:the\s+)?(?:target|label)\b", re.I),
]
MODEL_WORDS = [  # (pattern, node type), in the order they are looked for
    (r"\bx\s*g\s*boost\w*|\bxgb\b|gradient[- ]boost\w*|boosted trees?", "train_xgboost"),
    (r"random[- ]forests?|\bforests?\b", "train_random_forest"),
    (r"\blogistic\b|\blogreg\b", "train_logreg"),
    (r"\blinear(?!\s+classifier)\b|\bols\b|least[- ]squares", "train_linear_regression"),
]
_COMPARE = re.compile(r"\bcompar\w*|\bwhich\s+(?:model|algorithm|estimator)|\bbest\s+(?:model|algorithm)|"
                      r"\b(?:several|multiple|three|different|few)\s+models|\bvs\.?\b|\bversus\b", re.I)
_PREDICTIVE = re.compile(r"\b(?:predict\w*|forecast\w*|estimat\w*|classif\w*|regress\w*|train\w*|model\w*|fit|"
                         r"learn\w*|target|label)\b", re.I)
_NULL_WORDS = r"(?:missing|null|nulls|nan|nans|na|empty|blank|blanks|incomplete|gaps?)"


@dataclass
class Impute:
    phrases: list[str]  # empty: every column with gaps
    strategy: str  # median, mean, most_frequent, constant
    fill_value: float | None = None


@dataclass
class Intent:
    prompt: str
    predictive: bool = False
    target_phrase: str | None = None
    task: str | None = None  # asked for in words ("regression", "classify")
    models: list[str] = field(default_factory=list)
    compare: bool = False
    drop_phrases: list[str] = field(default_factory=list)
    drop_nulls: list[str] | None = None  # None: not asked; []: any column; else these columns
    imputes: list[Impute] = field(default_factory=list)
    one_hot: list[str] | None = None  # None: not asked; []: every text column
    normalize: str | None = None  # method
    register: tuple[str | None, str | None] | None = None  # (name, alias)
    test_size: float | None = None

    @property
    def cleaning(self) -> bool:
        return bool(self.drop_phrases or self.drop_nulls is not None or self.imputes or self.one_hot is not None
                    or self.normalize)


def clauses(prompt: str) -> list[str]:
    return [c.strip(" ,") for c in _CLAUSE_BREAK.split(prompt) if c and c.strip(" ,")]


def split_list(phrase: str) -> list[str]:
    """"name, ticket and cabin" -> ["name", "ticket", "cabin"]."""
    parts = re.split(r"\s*(?:,|\band\b|&|/|\bplus\b)\s*", phrase)
    return [p.strip(" \"'`") for p in parts if p.strip(" \"'`")]


def _strip_words(phrase: str, drop: str) -> str:
    return re.sub(rf"\b(?:{drop})\b", " ", phrase, flags=re.I).strip(" ,")


def _drop_clause(clause: str, intent: Intent) -> bool:
    verb = re.search(r"\b(?:drop|remove|delete|exclude|ignore|discard|leave\s+out|without|skip)\b(?P<rest>.*)",
                     clause, re.I)
    if not verb:
        return False
    rest = verb.group("rest")
    if re.search(rf"\brows?\b|\b{_NULL_WORDS}\b", rest, re.I) and not re.search(r"\bcolumns?\b", rest, re.I):
        where = re.search(rf"\bwhere\s+(?P<c>.+?)\s+(?:is|are)\s+{_NULL_WORDS}", rest, re.I) or \
            re.search(rf"\b{_NULL_WORDS}\s+(?P<c>.+)$", rest, re.I)
        subset = _strip_words(where.group("c"), r"values?|data|the|in|of|entries|fields?|rows?|any|cells?") \
            if where else ""
        intent.drop_nulls = (intent.drop_nulls or []) + split_list(subset)
        return True
    names = _strip_words(rest, r"the|columns?|features?|fields?|variables?|from\s+\w+|as\s+well|too|also")
    intent.drop_phrases += split_list(names)
    return bool(names)


def _impute_clause(clause: str, intent: Intent) -> bool:
    verb = re.search(r"\b(?:fill|impute|replace)\w*\b(?P<rest>.*)", clause, re.I)
    if not verb:
        return False
    rest = verb.group("rest")
    strategy, fill_value = "median", None
    if re.search(r"\b(?:mean|average)\b", rest, re.I):
        strategy = "mean"
    elif re.search(r"\b(?:mode|most\s+(?:frequent|common))\b", rest, re.I):
        strategy = "most_frequent"
    elif re.search(r"\b(?:zero|zeros|zeroes|0)\b", rest, re.I):
        strategy, fill_value = "constant", 0
    names = re.split(r"\b(?:with|using|by)\b", rest, maxsplit=1, flags=re.I)[0]
    names = _strip_words(names, rf"{_NULL_WORDS}|values?|data|the|in|of|for|columns?|entries|fields?|cells?|"
                                rf"all|any|every")
    intent.imputes.append(Impute(split_list(names), strategy, fill_value))
    return True


def _register(prompt: str) -> tuple[str | None, str | None] | None:
    found = re.search(r"\b(?:register|publish|save)\w*\b(?P<rest>[^.;!?\n]*)", prompt, re.I)
    if not found:
        return None
    rest = found.group("rest")
    alias = re.search(r"\balias\s+[\"'`]?(?P<a>[A-Za-z][A-Za-z0-9_\-]*)", rest, re.I)
    rest_no_alias = rest[:alias.start()] if alias else rest
    name = re.search(r"\b(?:as|named|called|under(?:\s+the\s+name)?)\s+[\"'`]?(?P<n>[A-Za-z0-9][A-Za-z0-9_.\-]*)",
                     rest_no_alias, re.I)
    return (name.group("n") if name else None, alias.group("a") if alias else None)


def _target(prompt: str) -> str | None:
    for pattern in _TARGET:
        found = pattern.search(prompt)
        if found:
            phrase = found.group("p").strip(" \"'`")
            if phrase and not all(w in STOPWORDS for w in words(phrase)):
                return phrase
    return None


def _task(prompt: str) -> str | None:
    plain = re.sub(r"\b(?:logistic|linear)\s+regression\b", " ", prompt, flags=re.I)
    if re.search(r"\bregress(?:ion|or|ors)?\b", plain, re.I):
        return "regression"
    if re.search(r"\bclassif(?:y|ies|ication|ier|iers)\b", plain, re.I):
        return "classification"
    return None


def _test_size(prompt: str) -> float | None:
    found = re.search(r"(\d{1,2})\s*%\s*(?:of\s+(?:the\s+)?rows\s+)?(?:for\s+)?(?:test|hold[- ]?out|held[- ]out)",
                      prompt, re.I) or re.search(r"(?:test|hold[- ]?out)\s*(?:size|set|fraction)?\s*(?:of|=|:)?\s*"
                                                 r"(\d{1,2})\s*%", prompt, re.I)
    if found:
        return int(found.group(1)) / 100
    found = re.search(r"test[_ ]?size\s*(?:of|=|:)?\s*(0?\.\d+)", prompt, re.I)
    return float(found.group(1)) if found else None


def parse(prompt: str) -> Intent:
    """The instructions a prompt holds; what it does not say stays unset."""
    intent = Intent(prompt=prompt)
    for clause in clauses(prompt):
        if re.search(r"\b(?:register|publish)\w*\b", clause, re.I):
            continue
        if _impute_clause(clause, intent) or _drop_clause(clause, intent):
            continue
        if re.search(r"\bone[- ]?hot|\bencod\w*|\bdumm(?:y|ies)\b", clause, re.I):
            rest = re.split(r"\bone[- ]?hot(?:[- ]encod\w*)?|\bencod\w*|\bdumm(?:y|ies)\b", clause, flags=re.I)[-1]
            names = _strip_words(rest, r"the|columns?|features?|categorical|categories|text|variables?|all|as|"
                                       r"one[- ]?hot|of")
            intent.one_hot = (intent.one_hot or []) + split_list(names)
        if re.search(r"\bnormali[sz]\w*|\bstandardi[sz]\w*|\bscal(?:e|ing)\b|\bmin[- ]?max\b|\bz[- ]?score", clause,
                     re.I):
            intent.normalize = "minmax" if re.search(r"min[- ]?max|\b0\s*(?:and|-|to)\s*1\b", clause, re.I) \
                else "standard"
    intent.register = _register(prompt)
    intent.models = [node for pattern, node in MODEL_WORDS if re.search(pattern, prompt, re.I)]
    if "train_linear_regression" in intent.models and "train_logreg" in intent.models \
            and not re.search(r"\blinear\s+regression", prompt, re.I):
        intent.models.remove("train_linear_regression")
    intent.models.sort(key=lambda node: min(m.start() for p, n in MODEL_WORDS if n == node
                                            for m in re.finditer(p, prompt, re.I)))
    intent.compare = bool(_COMPARE.search(prompt)) or len(intent.models) > 1
    intent.task = _task(prompt)
    intent.target_phrase = _target(prompt)
    intent.test_size = _test_size(prompt)
    intent.predictive = bool(_PREDICTIVE.search(prompt) or intent.models or intent.compare or intent.target_phrase
                             or intent.register)
    return intent


def label_words() -> frozenset[str]:
    """Words that mean "the dataset's label" when no column is named: "which cultivar", "the species"."""
    return frozenset(stem(w) for w in """class classes label target category type kind outcome species cultivar
    variety digit digits diagnosis progression malignant benign tumor tumour disease flower result answer""".split())
