// A local WeChat puppet-service gateway for studybot's end-to-end tests.
//
// Serves wechaty-puppet-mock over gRPC (wechaty-puppet-service's PuppetServer) on
// 127.0.0.1:PORT with TOKEN, so python `wechaty` connects exactly as to a real puppet service.
//
//   node wechat_gateway.mjs --port 8788 --token secret
//
// The world: the bot contact "bot" (学习助手), friends alice / bob / carol, and the room
// "study@chatroom" (topic ML自学者俱乐部) with members alice, bob and the bot; carol is a friend
// who is not in the room.
//
// Drive it with JSON lines on stdin:
//   {"cmd":"say","from":"alice","text":"自学"}                          DM to the bot
//   {"cmd":"say","from":"alice","room":"study@chatroom","text":"..."}   in the room
//       optional "mention":["bot"] (mentioned contact ids), "id":"custom-message-id"
//   {"cmd":"redeliver","id":"<message id>"}     emit the same message event again
//   {"cmd":"recall","from":"alice","room":"study@chatroom","id":"<message id>"}
//                                                the member recalls (撤回) that message
//   {"cmd":"join","who":"carol","room":"study@chatroom"}  carol joins the room (room-join event)
//   {"cmd":"friend","from":"dave","name":"Dave","hello":"自学"}  a stranger's friend request
//                                                (a friendship event; the contact is created)
//   {"cmd":"fail","what":"roomAdd","on":true}  make roomAdd / messageSendText / messageSendUrl /
//                                               messageSendFile throw (until "on":false)
//   {"cmd":"restart"}                           drop every gRPC connection and serve again
//   {"cmd":"members","room":"study@chatroom"}  print the room members
//   {"cmd":"unfriend","who":"alice"}           alice deletes the bot (no longer a friend)
// It prints one JSON line on stdout per event: {"event":"ready"}, {"event":"login"},
// {"event":"said","id":...} (a user message injected), {"event":"text",...} (the bot sent text:
// to, room, text, mentions, id), {"event":"url",...} (a UrlLink card), {"event":"file",...},
// {"event":"room_add",...}, {"event":"friend_request","id":...},
// {"event":"accepted","id":...,"contact":...} (the bot accepted a friend request),
// {"event":"members",...}, {"event":"error","message":...}. Library logs go to stderr.
// The gateway exits when stdin closes.

import { randomUUID } from 'node:crypto'
import readline from 'node:readline'
import util from 'node:util'

import { PuppetMock } from 'wechaty-puppet-mock'
import { log, PuppetServer } from 'wechaty-puppet-service'
import * as PUPPET from 'wechaty-puppet'

// stdout carries only our JSON lines: send every library log line to stderr
const toStderr = (...args) => process.stderr.write(util.format(...args) + '\n')
console.log = toStderr
console.info = toStderr
console.debug = toStderr
log.level(process.env.WECHATY_LOG || 'warn')

function arg (name, fallback) {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? process.argv[index + 1] : (process.env[`GATEWAY_${name.toUpperCase()}`] || fallback)
}

const port = Number(arg('port', '8788'))
const token = arg('token', 'studybot-test-token')
const endpoint = `127.0.0.1:${port}`

function emit (event) {
  process.stdout.write(JSON.stringify(event) + '\n')
}

const puppet = new PuppetMock()
const mocker = puppet.mocker
const contacts = {
  bot: mocker.createContact({ id: 'bot', name: '学习助手' }),
  alice: mocker.createContact({ id: 'alice', name: 'Alice' }),
  bob: mocker.createContact({ id: 'bob', name: 'Bob' }),
  carol: mocker.createContact({ id: 'carol', name: 'Carol' }),
}
for (const contact of Object.values(contacts)) {
  contact.payload.friend = true
}
const ROOM_ID = 'study@chatroom'
mocker.createRoom({
  id: ROOM_ID,
  topic: 'ML自学者俱乐部',
  memberIdList: ['alice', 'bob', 'bot'],
  ownerId: 'bot',
})

const failing = new Set()

puppet.on('start', () => {
  // log the bot in once the puppet (started by the gRPC client) is on
  setImmediate(() => {
    if (!puppet.isLoggedIn) {
      mocker.login(contacts.bot)
    }
  })
})
puppet.on('login', ({ contactId }) => emit({ event: 'login', contactId }))

// A message the bot sends is created in the mock with an id we return (the mock returns none)
function recordBotMessage (conversationId, payload) {
  const base = { id: `sent-${randomUUID()}`, talkerId: puppet.currentUserId, timestamp: Date.now() }
  const full = conversationId.includes('@')
    ? { ...base, ...payload, roomId: conversationId }
    : { ...base, ...payload, listenerId: conversationId }
  mocker.MessageMock.create(full)
  // like real WeChat, the bot also receives its own messages (it must ignore them)
  setImmediate(() => puppet.emit('message', { messageId: full.id }))
  return full.id
}

puppet.messageSendText = async (conversationId, text, mentionIdList = []) => {
  if (failing.has('messageSendText')) throw new Error('messageSendText failing (test)')
  if (!puppet.isLoggedIn) throw new Error('not logged in')
  const id = recordBotMessage(conversationId, {
    type: PUPPET.types.Message.Text,
    text,
    mentionIdList: mentionIdList || [],
  })
  emit({
    event: 'text',
    id,
    to: conversationId,
    room: conversationId.includes('@'),
    text,
    mentions: mentionIdList || [],
  })
  return id
}

puppet.messageSendUrl = async (conversationId, urlLinkPayload) => {
  if (failing.has('messageSendUrl')) throw new Error('messageSendUrl failing (test)')
  const id = `sent-${randomUUID()}`
  emit({ event: 'url', id, to: conversationId, room: conversationId.includes('@'), ...urlLinkPayload })
  return id
}

puppet.messageSendFile = async (conversationId, file) => {
  if (failing.has('messageSendFile')) throw new Error('messageSendFile failing (test)')
  const id = `sent-${randomUUID()}`
  emit({ event: 'file', id, to: conversationId, room: conversationId.includes('@'), name: file.name })
  return id
}

puppet.roomAdd = async (roomId, contactId) => {
  emit({ event: 'room_add', room: roomId, contact: contactId })
  if (failing.has('roomAdd')) throw new Error('roomAdd failing (test)')
  const room = mocker.RoomMock.load(roomId)
  if (!room.payload.memberIdList.includes(contactId)) {
    room.add(mocker.ContactMock.load(contactId)).by(contacts.bot)
  }
  await puppet.dirtyPayload(PUPPET.types.Payload.Room, roomId)
  await puppet.dirtyPayload(PUPPET.types.Payload.RoomMember, roomId)
}

// friend requests: the mock keeps no friendship payloads, so the gateway serves its own
const friendships = new Map()
puppet.friendshipRawPayload = async (id) => friendships.get(id) || { id }
puppet.friendshipRawPayloadParser = async (raw) => raw
puppet.friendshipAccept = async (id) => {
  const request = friendships.get(id)
  if (!request) throw new Error(`no friend request ${id}`)
  mocker.ContactMock.load(request.contactId).payload.friend = true
  emit({ event: 'accepted', id, contact: request.contactId })
}

let server
async function serve () {
  server = new PuppetServer({ endpoint, puppet, token, tls: { disable: true } })
  await server.start()
}

async function handle (command) {
  switch (command.cmd) {
    case 'say': {
      const talker = mocker.ContactMock.load(command.from)
      const mentions = (command.mention || []).map(id => mocker.ContactMock.load(id))
      const to = command.room ? mocker.RoomMock.load(command.room) : (command.to ? mocker.ContactMock.load(command.to) : contacts.bot)
      const payload = {
        id: command.id || randomUUID(),
        talkerId: talker.id,
        timestamp: Date.now(),
        type: PUPPET.types.Message.Text,
        text: command.text,
      }
      if (command.room) {
        Object.assign(payload, { roomId: command.room, mentionIdList: mentions.map(c => c.id) })
      } else {
        payload.listenerId = to.id
      }
      mocker.MessageMock.create(payload)
      puppet.emit('message', { messageId: payload.id })
      emit({ event: 'said', id: payload.id })
      break
    }
    case 'recall': {
      // WeChat tells the bot with a Recalled message whose text is the recalled message's id
      const payload = {
        id: randomUUID(),
        talkerId: command.from,
        timestamp: Date.now(),
        type: PUPPET.types.Message.Recalled,
        text: command.id,
      }
      if (command.room) payload.roomId = command.room
      else payload.listenerId = contacts.bot.id
      mocker.MessageMock.create(payload)
      puppet.emit('message', { messageId: payload.id })
      emit({ event: 'recalled', id: command.id })
      break
    }
    case 'join': {
      // the mock's room.add(...).by(...) emits the puppet's room-join event itself
      mocker.RoomMock.load(command.room).add(mocker.ContactMock.load(command.who)).by(contacts.bot)
      await puppet.dirtyPayload(PUPPET.types.Payload.RoomMember, command.room)
      emit({ event: 'joined', room: command.room, who: command.who })
      break
    }
    case 'friend': {
      const known = Object.prototype.hasOwnProperty.call(contacts, command.from)
      if (!known) {
        contacts[command.from] = mocker.createContact({ id: command.from, name: command.name || command.from })
        contacts[command.from].payload.friend = false
      }
      const id = `friendship-${randomUUID()}`
      friendships.set(id, {
        id,
        contactId: command.from,
        hello: command.hello || '',
        type: PUPPET.types.Friendship.Receive,
        timestamp: Date.now(),
        ticket: '',
      })
      puppet.emit('friendship', { friendshipId: id })
      emit({ event: 'friend_request', id })
      break
    }
    case 'redeliver':
      puppet.emit('message', { messageId: command.id })
      emit({ event: 'redelivered', id: command.id })
      break
    case 'fail':
      if (command.on === false) failing.delete(command.what)
      else failing.add(command.what)
      emit({ event: 'failing', what: [...failing] })
      break
    case 'newmember': {  // a new contact in the room: {cmd: 'newmember', id, name, room}
      const contact = mocker.createContact({ id: command.id, name: command.name })
      contact.payload.friend = true
      const room = mocker.RoomMock.load(command.room)
      room.payload.memberIdList = [...room.payload.memberIdList, command.id]
      emit({ event: 'joined', id: command.id })
      break
    }
    case 'unfriend': {
      mocker.ContactMock.load(command.who).payload.friend = false
      await puppet.dirtyPayload(PUPPET.types.Payload.Contact, command.who)
      emit({ event: 'unfriended', who: command.who })
      break
    }
    case 'members':
      emit({ event: 'members', room: command.room, members: [...mocker.RoomMock.load(command.room).payload.memberIdList] })
      break
    case 'restart':
      await server.stop()
      await serve()
      emit({ event: 'restarted' })
      break
    default:
      throw new Error(`unknown cmd ${command.cmd}`)
  }
}

async function main () {
  await serve()
  emit({ event: 'ready', endpoint })
  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', async line => {
    if (!line.trim()) return
    try {
      await handle(JSON.parse(line))
    } catch (e) {
      emit({ event: 'error', message: String(e && e.message ? e.message : e) })
    }
  })
  lines.on('close', async () => {
    try {
      await server.stop()
      await puppet.stop()
    } finally {
      process.exit(0)
    }
  })
}

main().catch(e => {
  emit({ event: 'error', message: String(e && e.stack ? e.stack : e) })
  process.exit(1)
})
