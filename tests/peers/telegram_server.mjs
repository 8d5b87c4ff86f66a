// Telegram Bot API emulator for studybot's end-to-end tests (npm telegram-test-api).
// Usage: node telegram_server.mjs <port> [--limits]  -> prints "ready <port>"; exits when stdin
// closes. Added to the package: setMessageReaction (client side: POST /getReactions {token},
// POST /disallowReactions {chatId}; POST /getSends {token}: every send, edit and reaction
// accepted, with its time in ms); getUpdates honours offset as Telegram does (an update is
// delivered again until a later call's offset confirms it; the package marked it read when
// fetched); with --limits, Telegram's flood limits per bot token: a 429 with retry_after past
// 30 sends/s per bot and past 20 messages/min into one group. Also getChatAdministrators
// (bot side), answering from a table the test fills through the client side:
// POST /setChatAdministrators {chatId, userIds}. A user who blocked the bot: POST /blockBot
// {chatId} makes every send into that chat a 403 "Forbidden: bot was blocked by the user".
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
const limits = process.argv.includes('--limits');
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
const app = server.webServer;
const before = app._router.stack.length;

const SENDS = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText']);
const COUNTED = new Set([...SENDS, 'setMessageReaction']);
const accepted = []; // every send, edit and reaction taken (for benchmarks: POST /getSends)
const times = new Map(); // key -> send times (ms) inside the window
const reactions = []; // {token, chat_id, message_id, reaction}
const noReactions = new Set(); // chat ids where reactions are not allowed
const blocked = new Set(); // private chats whose user blocked the bot

function wait(key, count, windowMs, now) {
  const recent = (times.get(key) || []).filter((t) => t > now - windowMs);
  times.set(key, recent);
  return recent.length >= count ? Math.max(1, Math.ceil((recent[0] + windowMs - now) / 1000)) : 0;
}

function tooMany(res, seconds) {
  res.status(429).json({
    ok: false,
    error_code: 429,
    description: `Too Many Requests: retry after ${seconds}`,
    parameters: { retry_after: seconds },
  });
}

const offsets = new Map(); // token -> the offset of its latest getUpdates
app.all('/bot:token/getUpdates', (req, res, next) => {
  offsets.set(req.params.token, Number(req.body.offset || 0));
  next();
});
server.getUpdates = (token) => {
  const offset = offsets.get(token) || 0;
  const mine = server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
  for (const update of mine) if (update.updateId < offset) update.isRead = true; // confirmed
  return mine.filter((u) => !u.isRead).map((u) => TelegramServer.formatUpdate(u));
};

function record(token, method, body, now) {
  let replyTo = null;
  try {
    const parameters = typeof body.reply_parameters === 'string'
      ? JSON.parse(body.reply_parameters) : body.reply_parameters;
    replyTo = parameters ? Number(parameters.message_id) : null;
  } catch (error) { replyTo = null; }
  accepted.push({
    token, method, time: now, chat_id: String(body.chat_id), text: body.text || null,
    reply_to: replyTo, message_id: body.message_id ? Number(body.message_id) : null,
  });
}

app.all('/bot:token/:method', (req, res, next) => {
  const { token, method } = req.params;
  if (SENDS.has(method) && blocked.has(String(req.body.chat_id))) {
    res.status(403).json({
      ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user',
    });
    return;
  }
  if (!COUNTED.has(method)) return next();
  const now = Date.now();
  if (!limits) {
    record(token, method, req.body, now);
    return next();
  }
  const chat = String(req.body.chat_id);
  const group = chat.startsWith('-') || chat.startsWith('@');
  const overall = wait(`${token}`, 30, 1000, now);
  const perGroup = group && SENDS.has(method) ? wait(`${token}:${chat}`, 20, 60000, now) : 0;
  if (overall || perGroup) return tooMany(res, Math.max(overall, perGroup));
  times.get(`${token}`).push(now);
  if (group && SENDS.has(method)) times.get(`${token}:${chat}`).push(now);
  record(token, method, req.body, now);
  return next();
});

app.all('/bot:token/setMessageReaction', (req, res) => {
  const chat = String(req.body.chat_id);
  if (noReactions.has(chat)) {
    res.json({ ok: false, error_code: 400, description: 'Bad Request: REACTION_INVALID' });
    return;
  }
  let reaction = req.body.reaction || [];
  if (typeof reaction === 'string') reaction = JSON.parse(reaction);
  reactions.push({
    token: req.params.token,
    chat_id: chat,
    message_id: Number(req.body.message_id),
    reaction,
  });
  res.json({ ok: true, result: true });
});

app.post('/getSends', (req, res) => {
  res.json({ ok: true, result: accepted.filter((r) => r.token === req.body.token) });
});

app.post('/getReactions', (req, res) => {
  res.json({ ok: true, result: reactions.filter((r) => r.token === req.body.token) });
});

app.post('/blockBot', (req, res) => {
  blocked.add(String(req.body.chatId));
  res.json({ ok: true, result: true });
});

app.post('/disallowReactions', (req, res) => {
  noReactions.add(String(req.body.chatId));
  res.json({ ok: true, result: true });
});

// the package registered its routes (and a catch-all) in its constructor: ours go first
const stack = app._router.stack;
const ours = stack.splice(before, stack.length - before);
const first = stack.findIndex((layer) => layer.route);
stack.splice(first, 0, ...ours);

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
