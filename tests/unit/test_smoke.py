"""The wired bot answers /start and /help and refuses unknown commands."""


async def test_start_greets_member_by_name(chat):
    text = await chat.say("/start", user="u1", name="大煌")
    assert "大煌" in text and "/help" in text


async def test_help_lists_commands_and_hides_admin_ones_from_members(chat):
    member = await chat.say("/help", user="u1")
    assert "/start" in member and "/help" in member
    admin = await chat.say("/帮助", user="admin")
    assert "/start" in admin


async def test_unknown_command_gets_clear_reply_when_addressed(chat):
    assert "/nosuch" in await chat.say("/nosuch foo", mentions_bot=True)
    assert await chat.say("/nosuch foo") == ""  # a group's other bots' commands: quiet (#19)


async def test_redelivered_message_is_processed_once(chat):
    first = await chat.say("/start", message_id="m-1")
    again = await chat.say("/start", message_id="m-1")
    assert first and again == ""


async def test_hashtag_at_the_end_of_a_group_message_checks_in(chat):
    text = await chat.say("今天读完了 YOLO v3 论文，理解了多尺度预测 #打卡", user="u9", name="奔腾")
    assert "奔腾" in text
    listing = await chat.say("/checkin", user="u9", name="奔腾")
    assert "YOLO v3" in listing and "#打卡" not in listing


async def test_hashtag_inside_a_sentence_is_just_chat(chat):
    assert await chat.say("大家说的 #打卡 是什么意思？", user="u9") == ""
