"""The wired bot answers /start and /help and refuses unknown commands."""


async def test_start_greets_member_by_name(chat):
    text = await chat.say("/start", user="u1", name="大煌")
    assert "大煌" in text and "/help" in text


async def test_help_lists_commands_and_hides_admin_ones_from_members(chat):
    member = await chat.say("/help", user="u1")
    assert "/start" in member and "/help" in member
    admin = await chat.say("/帮助", user="admin")
    assert "/start" in admin


async def test_unknown_command_gets_clear_reply(chat):
    assert "/nosuch" in await chat.say("/nosuch foo")


async def test_redelivered_message_is_processed_once(chat):
    first = await chat.say("/start", message_id="m-1")
    again = await chat.say("/start", message_id="m-1")
    assert first and again == ""
