"""Text side of search: jieba segmentation, stopwords, and the /search query language.

Documents and queries go through the same :func:`tokens`: ``jieba.cut_for_search`` (HMM off,
so unknown words split the same way in a note and in a query) on lower-cased text, plus a
small machine-learning dictionary (正则化, 过拟合, 词向量, 目标检测, ...); jieba's own dictionary is
trimmed of its rarest words to save memory (:data:`MIN_WORD_FREQ`). Tokens are runs of
letters/digits only (``[^\\W_]+``), so ASCII words such as ``word2vec`` or ``yolo`` survive
whole and punctuation never reaches the full-text engine. Changing the dictionary or the
stopwords changes tokens: run ``rebuild_index`` afterwards.

Query language (:func:`parse_query`)::

    词向量 word2vec #nlp type:paper 论文:transformer page 2

- words: segmented like documents; every word must match (a compound such as 目标检测 also
  matches a note where it was split into 目标 + 检测);
- ``#tag``: only entries carrying that tag (resources' tags, #tags written in any text);
- ``type:X`` / ``类型:X`` / ``X:`` with X one of 心得 问题 回答 论文 资源 or
  checkin question answer paper resource (plus a few synonyms, see :data:`KIND_ALIASES`);
- ``page N`` / ``第N页``: the page to show.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import threading
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("checkin", "question", "answer", "paper", "resource")

KIND_ALIASES: dict[str, str] = {
    **{k: k for k in KINDS},
    **dict.fromkeys(("心得", "打卡", "笔记", "checkins", "check-in", "note", "notes"), "checkin"),
    **dict.fromkeys(("问题", "提问", "疑问", "questions", "ask"), "question"),
    **dict.fromkeys(("回答", "答案", "解答", "answers"), "answer"),
    **dict.fromkeys(("论文", "papers"), "paper"),
    **dict.fromkeys(("资源", "资料", "分享", "resources", "share", "link", "links"), "resource"),
}

# Domain words the stock jieba dictionary splits badly (正则化 -> 正则 / 化是).
ML_WORDS = """
机器学习 深度学习 强化学习 监督学习 无监督学习 半监督学习 自监督学习 迁移学习 元学习 主动学习 联邦学习
表示学习 对比学习 集成学习 神经网络 卷积神经网络 循环神经网络 递归神经网络 图神经网络 图卷积
生成对抗网络 变分自编码器 自编码器 注意力机制 自注意力 多头注意力 残差网络 特征金字塔 图像金字塔
词向量 词嵌入 嵌入 预训练 微调 大语言模型 语言模型 知识蒸馏 数据增强 正则化 过拟合 欠拟合
泛化 泛化能力 归一化 标准化 批标准化 批归一化 层归一化 梯度下降 随机梯度下降 反向传播 梯度消失
梯度爆炸 学习率 损失函数 交叉熵 激活函数 超参数 目标检测 人脸检测 语义分割 实例分割
图像分类 图像分割 目标跟踪 关键点 自然语言处理 计算机视觉 语音识别 机器翻译 文本分类 情感分析
支持向量机 逻辑回归 线性回归 决策树 随机森林 朴素贝叶斯 聚类 降维 主成分分析 期望最大化
隐马尔可夫 马尔科夫 拉普拉斯分布 先验 后验 似然 极大似然 贝叶斯 特征工程 特征提取 分词 锚框
""".split()

STOPWORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 也 就 都 而 被 把 让 给 对 从 到 向 于 以 之 其 这 那 这个 那个 这些
    那些 一个 一种 我 你 他 她 它 我们 你们 他们 吗 呢 吧 啊 呀 么 着 过 还 又 很 太 更 最 不 没
    有 要 会 能 可以 什么 怎么 怎样 如何 为什么 哪 哪些 一下 一些 等 等等 就是 还是 但是 因为
    所以 如果 然后 可能 已经 没有 自己 而且 并且 以及 通过
    a an the of to and or in on at by for with from as is are was were be been it this that
    these those i you he she we they my your what which who how why do does did can could
    should would will not no so if then than but about into
    """.split()
)

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"[#＃]([^\W_][\w+.\-]*)")
_PAGE = re.compile(r"(?i)^(?:page[:=]?|p[:=])(\d{1,4})$|^第(\d{1,4})页$")
_KIND_PREFIX = re.compile(r"^(?:(?i:type|kind)|类型)[:：](.*)$")
_ALIAS_PREFIX = re.compile(r"^([^:：]{1,12})[:：](.*)$")
MAX_QUERY_TOKENS = 32

_lock = threading.Lock()
_ready = False
# Words of 3+ characters rarer than this in jieba's dictionary are left out (every 1-2 character
# word stays): 188k of its 349k words, and the loaded dictionary takes ~33 MB of memory instead
# of ~65 MB (it was most of the bot's RSS). A left-out word is split into shorter words -- the
# same way in a note and in a query, so it is still found. Changing this changes tokens:
# migration 0008 re-queues every entry.
MIN_WORD_FREQ = 5


def cache_dir() -> Path:
    """Where the trimmed dictionary and jieba's parsed copy of it are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "studybot"


def trimmed_dictionary(source: Path, folder: Path, min_freq: int = MIN_WORD_FREQ) -> Path:
    """jieba's ``dict.txt`` without 3+ character words rarer than ``min_freq`` (written once)."""
    target = folder / f"jieba-dict-{source.stat().st_size}-long-min{min_freq}.txt"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    with source.open(encoding="utf-8") as words, partial.open("w", encoding="utf-8") as out:
        for line in words:
            fields = line.split()
            if len(fields) < 2 or not fields[1].isdigit():
                continue
            if len(fields[0]) <= 2 or int(fields[1]) >= min_freq:  # every 1-2 character word
                out.write(line)
    os.replace(partial, target)
    return target


def _use_trimmed_dictionary(jieba) -> None:  # type: ignore[no-untyped-def]
    source = Path(jieba.__file__).parent / "dict.txt"
    try:
        folder = cache_dir()
        jieba.set_dictionary(str(trimmed_dictionary(source, folder)))
        jieba.dt.tmp_dir = str(folder)  # jieba's parsed (marshal) cache next to it, not in /tmp
    except OSError as error:  # read-only home: the full dictionary works, it is just bigger
        logging.getLogger(__name__).warning("using jieba's full dictionary (%s)", error)


class _LazyFinalseg(types.ModuleType):
    """Stands in for ``jieba.finalseg``, jieba's HMM for unknown words, whose probability tables
    (~5 MB) jieba imports eagerly. We cut with ``HMM=False``, so they are never used; should
    anything ask for them, the real module is imported then and answers instead."""

    def __getattr__(self, name: str) -> Any:
        real = sys.modules.get(self.__name__)
        if real is self or real is None:
            del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
        return getattr(real, name)


def _jieba() -> Any:
    """jieba, initialised once on first use (about a second) with logging silenced."""
    global _ready
    if "jieba" not in sys.modules:
        # jieba's _compat imports pkg_resources (~6 MB RSS, ~60 ms) only to open its own
        # dictionary file and falls back to a plain open() without it: hide it while importing.
        hidden = "pkg_resources" not in sys.modules
        if hidden:
            sys.modules["pkg_resources"] = None  # type: ignore[assignment]
        sys.modules.setdefault("jieba.finalseg", _LazyFinalseg("jieba.finalseg"))
        try:
            import jieba
        finally:
            if hidden:
                del sys.modules["pkg_resources"]
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                _use_trimmed_dictionary(jieba)
                jieba.initialize()
                for word in ML_WORDS:
                    jieba.add_word(word)
                _ready = True
    return jieba


def warm_up() -> None:
    """Load the jieba dictionary now (call from startup to avoid a slow first message)."""
    _jieba()


def _clean(pieces: Iterable[str]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        for word in _WORD.findall(piece):
            if word not in STOPWORDS:
                out.append(word)
    return out


def tokens(text: str) -> list[str]:
    """Search tokens of ``text`` in order (duplicates kept, as term frequency matters)."""
    if not text:
        return []
    return _clean(_jieba().cut_for_search(text.lower(), HMM=False))


def token_text(*parts: str) -> str:
    """Space-joined tokens of ``parts``: what the index stores."""
    return " ".join(tok for part in parts for tok in tokens(part))


def word_groups(text: str) -> list[tuple[str, ...]]:
    """Query words, each with the pieces that may stand in for it.

    ``目标检测`` gives ``("目标检测", "目标", "检测")``: the word matches a document holding the
    whole word, or (when the pieces cover it) all of its pieces.
    """
    jieba = _jieba()
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for word in _clean(jieba.cut(text.lower(), HMM=False)):
        if word in seen:
            continue
        seen.add(word)
        pieces = [p for p in _clean(jieba.cut_for_search(word, HMM=False)) if p != word]
        groups.append((word, *pieces) if _covers(word, pieces) else (word,))
    return groups[:MAX_QUERY_TOKENS]


def _covers(word: str, pieces: list[str]) -> bool:
    """True when some pieces, laid end to end, spell ``word``."""
    if not pieces:
        return False
    reachable = {0}
    for end in range(1, len(word) + 1):
        if any(end - len(p) in reachable and word[end - len(p) : end] == p for p in pieces):
            reachable.add(end)
    return len(word) in reachable


def hashtags(text: str) -> list[str]:
    """``#tags`` written in free text, normalised like resource tags (lower case, no '#')."""
    return list(dict.fromkeys(normalise_tag(m) for m in _TAG.findall(text or "") if m))


def normalise_tag(raw: str) -> str:
    return raw.lstrip("#＃").rstrip(".-").lower()[:30].rstrip(".-")


class QueryError(ValueError):
    """A query the user must fix; ``code`` names a message, ``value`` the offending part."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value}")
        self.code = code
        self.value = value


@dataclass
class ParsedQuery:
    """A /search query split into words, tag filters, type filters and a page number."""

    words: str = ""
    tags: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    page: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.words.strip() or self.tags or self.kinds)


def _kind(name: str) -> str | None:
    return KIND_ALIASES.get(name.strip().lower())


def parse_query(text: str) -> ParsedQuery:
    """Split ``text`` into words, ``#tags``, ``type:`` filters and ``page N``.

    Raises :class:`QueryError` (``unknown_type``) for ``type:foo`` with an unknown type.
    """
    query = ParsedQuery()
    words: list[str] = []
    parts = (text or "").split()
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        if part.lower() == "page" and i < len(parts) and parts[i].isdigit():
            query.page = int(parts[i][:4])
            i += 1
            continue
        page = _PAGE.match(part)
        if page:
            query.page = int(page.group(1) or page.group(2))
            continue
        if part[0] in "#＃" and _TAG.fullmatch(part):
            query.tags.append(normalise_tag(part))
            continue
        typed = _KIND_PREFIX.match(part)
        if typed:
            rest = typed.group(1)
            if not rest and i < len(parts):
                rest = parts[i]
                i += 1
            if not rest.strip():
                continue  # a bare "type:" filters nothing
            kind = _kind(rest)
            if kind is None:
                raise QueryError("unknown_type", rest)
            query.kinds.append(kind)
            continue
        prefixed = _ALIAS_PREFIX.match(part)
        if prefixed and _kind(prefixed.group(1)) is not None:
            query.kinds.append(_kind(prefixed.group(1)) or "")
            if prefixed.group(2):
                words.append(prefixed.group(2))
            continue
        words.append(part)
    query.words = " ".join(words)
    query.tags = list(dict.fromkeys(query.tags))
    query.kinds = list(dict.fromkeys(query.kinds))
    return query
