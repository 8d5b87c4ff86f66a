// Telegram Bot API emulator for studybot's end-to-end tests (npm telegram-test-api).
// Usage: node telegram_server.mjs <port>  -> prints "ready <port>"; exits when stdin closes.
//
// Adds what the package lacks: getChatAdministrators (bot side), answering from a table the
// test fills through the client side: POST /setChatAdministrators {chatId, userIds}.
import TelegramServer from 'telegram-test-api';
import routesIndex from 'telegram-test-api/lib/routes/index.js';

const administrators = new Map(); // chat id -> user ids

function chatMember(userId, index) {
  const user = { id: userId, is_bot: false, first_name: `admin ${userId}` };
  if (index === 0) return { status: 'creator', user, is_anonymous: false };
  return {
    status: 'administrator', user, can_be_edited: false, is_anonymous: false,
    can_manage_chat: true, can_delete_messages: true, can_manage_video_chats: true,
    can_restrict_members: true, can_promote_members: false, can_change_info: true,
    can_invite_users: true, can_post_stories: false, can_edit_stories: false,
    can_delete_stories: false,
  };
}

// registered before the package's own routes (its catch-all answers unknown methods)
routesIndex.routes.unshift((app) => {
  app.post('/setChatAdministrators', (req, res) => {
    administrators.set(String(req.body.chatId), (req.body.userIds || []).map(Number));
    res.sendResult({ ok: true, result: null });
  });
  app.all('/bot:token/getChatAdministrators', (req, res) => {
    const chatId = String(req.body.chat_id ?? req.query.chat_id);
    const ids = administrators.get(chatId);
    if (ids === undefined) {
      res.sendResult({ ok: false, error_code: 400, description: 'Bad Request: chat not found' });
      return;
    }
    res.sendResult({ ok: true, result: ids.map(chatMember) });
  });
});


// Edited messages, which the emulator lacks: a client message with "edit_of": <message id>
// (posted to /sendMessage like any other) reaches the bot as an edited_message update of that
// message. Other fields (new_chat_members, sender_chat) pass through as the emulator stores them.
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (update) => {
  const formatted = formatUpdate.call(TelegramServer, update);
  const message = formatted.message;
  if (message && message.edit_of !== undefined) {
    const { edit_of: original, ...rest } = message;
    const editDate = Math.floor(Date.now() / 1000);
    return { update_id: formatted.update_id, edited_message: { ...rest, message_id: original, edit_date: editDate } };
  }
  return formatted;
};
const port = Number(process.argv[2] || 9000);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
await server.start();
process.stdout.write(`ready ${port}\n`);
const quit = async () => {
  await server.stop();
  process.exit(0);
};
process.stdin.on('end', quit);
process.stdin.on('close', quit);
process.stdin.resume();
process.on('SIGTERM', quit);
