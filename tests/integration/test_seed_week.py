"""The seed week: the papers, seven members' notes and two questions of digest-example-001.md,
sent as chat messages through the real dispatcher, give a Markdown digest with the seed's
sections and entries (tests/golden/seed-digest-example-001.md is a copy of the seed)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.model import Reply
from digest.build import build_digest
from digest.periods import ensure_issue
from digest.render import render_html, render_markdown, render_telegram, render_wechat
from storage.identity import get_group
from tests.conftest import GROUP_CHAT

SEED = Path(__file__).resolve().parents[1] / "golden" / "seed-digest-example-001.md"

PDF = (
    "http://openaccess.thecvf.com/content_CVPR_2019/papers/Chen_Destruction_and_Construction_"
    "Learning_for_Fine-Grained_Image_Recognition_CVPR_2019_paper.pdf"
)
PAPERS = [
    (
        "u-paper1",
        "小编",
        f"/paper {PDF} CVPR2019：细粒度图像识别新论文 | 论文名称：Destruction and Construction "
        "Learning for Fine-grained Image Recognition\n\n该文献是属于细粒度图像识别领域的。"
        "文章提到部分先前的方法需要判别性区域的标注先验信息，标注成本高昂；并且先前方法一般需增加额外"
        "模块，而这些模块在推断阶段会引入额外的计算负担。\n\n因此文章引入“拆解与建构学习”机制使分类模块"
        "获得专家知识。 | 引入“拆解与建构学习”机制，强迫分类模块着重于判别性区域的区别，并建立各局部区域"
        "的语义关联。",
    ),
    (
        "u-paper2",
        "小编",
        "/paper https://arxiv.org/abs/1903.10258 基于元学习和AutoML的模型压缩新方法 | "
        "这篇文章来自于旷视。模型剪枝算法能够减少模型计算量，实现模型压缩和加速的目的。\n\n"
        "这篇文章提出了 PruningNet 的概念，自动为剪枝后的模型生成权重，从而绕过了费时的 retrain 步骤。"
        "[原文地址](https://mp.weixin.qq.com/s/lc7IoOV6S2Uz5xi7cPQUqg) | "
        "PruningNet 为剪枝后的网络生成权重，结合进化搜索自动找出剪枝结构。",
    ),
]
NOTES = [
    (
        "大煌",
        "/checkin 本周复现了一篇论文的代码。复现的效果没有论文的好。是一个很基础的版本，欢迎交流和探讨。"
        "[复现代码地址](https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation)",
    ),
    (
        "奔腾",
        "#打卡 本周复习了一下概率论，具体是过了一遍叶丙成老师的玩想概率，相对国内过于注重计算，"
        "而叶老师的课程很注重概念。最简单的概念，随机变量到底是什么。",
    ),
    (
        "昨夜星辰",
        "/checkin 本周学习了词向量的三种：word2vec，fasttext，elmo。代码如下，放在笔记里面：\n\n"
        "- [word2vec](https://blog.csdn.net/weixin_43178406/article/details/102461021)\n"
        "- [fasttext](https://blog.csdn.net/weixin_43178406/article/details/102465629)\n"
        "- [elmo](https://blog.csdn.net/weixin_43178406/article/details/102522853)",
    ),
    (
        "大灵",
        "/checkin 这周了解了一下密集计数。\n\n"
        "- 聚类计数： 基于外观和运动线索等特征进行聚类，适用于视频序列，不适用于图象。\n"
        "- 回归计数：通过检测计数 两种：一是使用计算对象的密度来预测密度图。\n"
        "- 检测计数： 先检测出对象，再计算数量，比glance和子图标的表现更差。",
    ),
    (
        "大鹏鹏",
        "/checkin 本周由于在赶论文，所以自学的不多，主要看了《大话数据结构》中的第三、四章节，"
        "以及《数学之美》中的前5章。",
    ),
    (
        "安芯",
        "/checkin 最近对图像分析做了一个简单的小结：个人研究loss和初始化对模型影响最大除模型结构之外。\n\n"
        "![](https://mmbiz.qpic.cn/mmbiz_jpg/icmWrEONNM8VRFHtV4JBldxFmrwGeqd1ChYaicgibbXEE1rR8nwfJDqm"
        "aJ2ezUIkticC6Rib3ce0l98B1Uh81dZQCLw/0?wx_fmt=jpeg)",
    ),
    (
        "吕涛",
        "/checkin 本周刚开始接触机器学习，学习了贝叶斯，线性回归，决策树，KNN模型，模型的评价方法\n"
        "1. 贝叶斯模型是基于概率的。\n2. 线性回归对已发生事件对应的线性函数进行最优求解\n"
        "3. 决策树主要通过求解不同分割点得信息熵之和。\n4. 模型评价如pression，recall，auc等等\n"
        "5. 知道了过拟合是什么意思",
    ),
]
ZHIHU = "https://www.zhihu.com/question/46197687/answer/229098444"
Q1 = f"lstm 激活函数为什么 sigmoid 和 tanh 同时存在 {ZHIHU}"
A1 = (
    "其中一个原因如下：输入x经过sigmoid函数后均值在0.5左右，不利于后续激活函数的处理。\n\n"
    "而tanh的输出在[-1,1]之间，因此相当于把输入的均值调整为0，便于后续处理。"
)
Q2 = (
    "研究生阶段如何规划\n老师，您好。我现在大四学生，现在已经推免，本科和硕士专业为GIS（地理信息系统）。"
    "请问研究生阶段该如何规划呢？"
)
A2 = (
    "你这个问题首先存在以下方面考虑：\n- 第一：你是否真心喜欢你所在领域，能坚持研究几年。\n"
    "- 第二：写代码和推公式等活没人帮你干只有自己。\n总结：以上的建议仅仅代表个人看法。"
)


# what members /share in the seed's resources files: an article list with [荐]/★ marks
RESOURCES = [
    ("奔腾", "/share https://zhuanlan.zhihu.com/p/36564434 #数学 理解梯度下降 [荐]★★★"),
    (
        "大灵",
        "/share https://www.ruanyifeng.com/blog/2017/07/neural-network.html #入门 神经网络入门",
    ),
    ("安芯", "/share https://aideadlin.es/?sub=ML,CV,NLP,RO,SP,DM AI Conference Deadlines"),
]


def outline(markdown: str) -> list[tuple[str, list[str]]]:
    """``## section`` headings with their ``### entry`` headings (link syntax removed)."""
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("### ") and sections:
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[4:]).strip()
            sections[-1][1].append(" ".join(title.split()))
    return sections


def toc(markdown: str) -> dict[str, list[str]]:
    """The bullets under each bold heading of 本期内容."""
    body = markdown.split("## 本期内容", 1)[1].split("\n## ", 1)[0]
    found: dict[str, list[str]] = {}
    current = ""
    for line in body.splitlines():
        if line.startswith("**") and line.endswith("**"):
            current = line.strip("*")
            found[current] = []
        elif line.startswith("- ") and current:
            found[current].append(line[2:].strip())
    return found


async def test_seed_week_gives_the_seed_digest(chat, clock, bot_app):
    def ok(replies: list[Reply]) -> list[Reply]:
        assert replies and all("用法" not in r.text and "失败" not in r.text for r in replies)
        return replies

    for user, name, text in PAPERS:
        ok(await chat.send(text, user=user, name=name))
        clock.advance(hours=1)
    for name, text in NOTES:
        ok(await chat.send(text, user=f"u-{name}", name=name))
        clock.advance(hours=1)
    asked = ok(await chat.send(f"/ask {Q1}", user="u-大灵", name="大灵"))
    assert asked[0].question_id is not None
    ok(await chat.send(f"/answer 1 {A1}", user="u-大鹏鹏", name="大鹏鹏"))
    clock.advance(hours=1)
    announcement = ok(await chat.send(f"/ask {Q2}", user="u-吕涛", name="吕涛"))[0]
    bot_app.sent.record_sent(GROUP_CHAT, "bot-msg-q2", announcement.question_id)
    ok(await chat.send(A2, user="u-安芯", name="安芯", reply_to="bot-msg-q2"))
    for user, text in RESOURCES:
        ok(await chat.send(text, user=f"u-{user}", name=user))

    with bot_app.db.session() as session:
        group = get_group(session, bot_app.config.groups[0].slug)
        issue = ensure_issue(session, group, clock(), bot_app.config.digest.cron)
        assert issue.period_start <= clock() - timedelta(hours=12)  # the whole week is inside
        digest = build_digest(session, issue, bot_app.config, web_url="https://club.example/1")
    markdown = render_markdown(digest)

    ours, seed = outline(markdown), outline(SEED.read_text(encoding="utf-8"))
    # the seed's sections, plus 学习资料 (the seed's preface promises 「学习心得与资料」)
    assert [s for s, _ in ours] == [
        "刊首语",
        "本期内容",
        "论文速递",
        "学习心得",
        "学习资料",
        "疑问解答",
        "加入我们",
    ]
    assert [s for s in ours if s[0] != "学习资料"] == seed  # same papers, 7 members, 2 questions
    assert "**\\#数学**" in markdown and "**其他**" in markdown
    assert (
        "- [理解梯度下降 \\[荐\\]★★★](https://zhuanlan.zhihu.com/p/36564434)（分享：奔腾）"
        in markdown
    )

    names = [name for name, _ in NOTES]
    assert toc(markdown) == {
        "论文速递": ["CVPR2019：细粒度图像识别新论文", "基于元学习和AutoML的模型压缩新方法"],
        "学习心得": names,
        "学习资料": ["理解梯度下降 \\[荐\\]★★★", "神经网络入门", "AI Conference Deadlines"],
        "疑问解答": ["lstm 激活函数为什么 sigmoid 和 tanh 同时存在", "研究生阶段如何规划"],
    }
    for link in (
        f"[论文地址]({PDF})",
        "[论文地址](https://arxiv.org/abs/1903.10258)",
        "[原文地址](https://mp.weixin.qq.com/s/lc7IoOV6S2Uz5xi7cPQUqg)",
        "[复现代码地址](https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation)",
        "- [word2vec](https://blog.csdn.net/weixin_43178406/article/details/102461021)",
        "- [elmo](https://blog.csdn.net/weixin_43178406/article/details/102522853)",
        "![](https://mmbiz.qpic.cn/mmbiz_jpg/",
        f"<{ZHIHU}>",
    ):
        assert link in markdown, link
    assert (
        "论文名称：Destruction and Construction Learning for Fine-grained Image Recognition"
        in markdown
    )
    assert "一句话概括该文献：引入“拆解与建构学习”机制" in markdown
    assert "1\\. 贝叶斯模型是基于概率的" not in markdown and "1. 贝叶斯模型是基于概率的" in markdown
    assert "> 老师，您好。我现在大四学生" in markdown and "> 研究生阶段如何规划" not in markdown
    assert "其中一个原因如下" in markdown and "第一：你是否真心喜欢你所在领域" in markdown
    assert markdown.rstrip().endswith(bot_app.config.join.text)

    # the same week renders for every target, 学习资料 included
    telegram = render_telegram(digest)
    assert all(len(part) < 4096 for part in telegram)
    assert '<a href="https://zhuanlan.zhihu.com/p/36564434">理解梯度下降 [荐]★★★</a>（奔腾）' in (
        "\n".join(telegram)
    )
    wechat = render_wechat(digest)
    assert "· 理解梯度下降 [荐]★★★（奔腾）" in "\n".join(wechat)
    assert "<h2>学习资料</h2>" in render_html(digest)
    assert wechat[-1].rstrip().endswith("https://club.example/1")
    assert "github.com" not in "\n".join(wechat)
    assert (
        'href="https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation"'
        in render_html(digest)
    )
