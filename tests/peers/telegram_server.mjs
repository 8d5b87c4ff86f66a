// Telegram Bot API emulator for studybot's end-to-end tests (npm telegram-test-api).
// Usage: node telegram_server.mjs <port>  -> prints "ready <port>"; exits when stdin closes.
import TelegramServer from 'telegram-test-api';
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
