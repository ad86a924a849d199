// Work orders: status badges (the one place for their colors), which actions fit which status, and the
// texts the order pages show (money in yuan, times in China time, deadlines in plain words).

const { formatTime, formatFriendly, parseTime } = require('./format')
const { formatYuan, formatQuantity } = require('./money')

// status -> badge colors. status_label (Chinese) comes from the API.
const STATUS_COLORS = {
  submitted: { color: '#b26a00', background: '#fff4e0' }, // 待派单
  dispatched: { color: '#b26a00', background: '#fff4e0' }, // 已派单
  accepted: { color: '#1a73e8', background: '#eef5ff' }, // 已接单
  on_site: { color: '#1a73e8', background: '#eef5ff' }, // 处理中
  paused: { color: '#8a5a00', background: '#f6efe0' }, // 已暂停
  completed: { color: '#7b1fa2', background: '#f3e5f5' }, // 待确认
  confirmed: { color: '#1e8e3e', background: '#e7f6ec' }, // 已确认
  closed: { color: '#1e8e3e', background: '#e7f6ec' }, // 已完成
  cancelled: { color: '#888888', background: '#eeeeee' }, // 已取消
}

function badgeStyle(status) {
  const c = STATUS_COLORS[status] || { color: '#555555', background: '#eeeeee' }
  return 'color:' + c.color + ';background:' + c.background + ';'
}

const OPEN = ['submitted', 'dispatched', 'accepted', 'on_site', 'paused'] // work still to do
const CANCELLABLE = ['submitted', 'dispatched', 'accepted'] // before anyone is on site
const DONE = ['completed', 'confirmed', 'closed'] // work finished (callbacks happen here)
const ASSIGNABLE = ['submitted', 'dispatched', 'accepted']

const has = (list, status) => list.indexOf(status) >= 0

// Money still due on a paid-service order once the work is done (final_fen - paid_fen), else 0.
function amountDue(order) {
  const o = order || {}
  if (o.kind !== 'service' || typeof o.final_fen !== 'number' || !has(DONE, o.status)) return 0
  return Math.max(0, o.final_fen - (o.paid_fen || 0))
}

// What an owner may do with an order in its current status. Complaints are not "confirmed": after the
// final reply (status completed) the owner rates the handling straight away (the server confirms it).
function ownerActions(order) {
  const s = order.status
  const unrated = order.rating === null || order.rating === undefined
  const complaint = order.kind === 'complaint'
  return {
    cancel: has(CANCELLABLE, s),
    urge: has(OPEN, s),
    confirm: !complaint && s === 'completed',
    rework: !complaint && s === 'completed',
    // A reopened complaint keeps its old rating; its next final reply can be rated again.
    rate: complaint ? s === 'completed' || (s === 'confirmed' && unrated) : s === 'confirmed' && unrated,
    pay: amountDue(order) > 0,
  }
}

// What the assigned worker may do.
function workerActions(order) {
  const s = order.status
  return {
    accept: s === 'dispatched',
    decline: s === 'dispatched',
    arrive: s === 'accepted',
    pause: s === 'on_site',
    complete: s === 'on_site',
    resume: s === 'paused',
  }
}

// Staff permissions: StaffOut.permissions when the API sends it, else the same table by role.
const ROLE_PERMISSIONS = {
  desk: ['receptionist', 'manager'],
  assign: ['receptionist', 'manager', 'supervisor'],
}

function staffCan(staff, permission) {
  if (!staff) return false
  if (Array.isArray(staff.permissions)) return staff.permissions.indexOf(permission) >= 0
  return (ROLE_PERMISSIONS[permission] || []).indexOf(staff.role) >= 0
}

// Desk / supervisor actions on one order.
function deskActions(staff, order) {
  const sameDept = !staff || staff.role !== 'supervisor' || staff.department === order.department
  return {
    assign: staffCan(staff, 'assign') && sameDept && has(ASSIGNABLE, order.status),
    callback: staffCan(staff, 'desk') && has(DONE, order.status),
  }
}

// Staff replies to a complaint (timeline actions "reply" and "resolve"), newest first.
function replies(order) {
  return (order.timeline || [])
    .filter((e) => e.action === 'reply' || e.action === 'resolve')
    .map((e, i) => ({
      key: e.id || 'r' + i,
      final: e.action === 'resolve',
      label: e.action === 'resolve' ? '最终答复' : '处理进展',
      content: e.note || '',
      who: e.actor_name || '服务中心',
      at_text: formatTime(e.at),
    }))
    .reverse()
}

// A complaint's clocks in words: 受理 (handler), 到场 (emergencies), 答复 (reply), 回访 (follow-up).
function complaintDeadlineLines(order, base) {
  const d = order.deadlines || {}
  const s = order.status
  const lines = []
  const when = (value) => formatFriendly(value, base)
  const overdue = (value) => parseTime(value) < base
  const open = has(OPEN, s)
  if (d.handler_due_at && (s === 'submitted' || s === 'dispatched')) {
    lines.push(overdue(d.handler_due_at)
      ? '受理时限：应在 ' + when(d.handler_due_at) + ' 前受理，已超时，可以催办'
      : '受理时限：服务中心将在 ' + when(d.handler_due_at) + ' 前受理您的投诉')
  }
  if (d.onsite_due_at && order.emergency && open && !order.arrived_at) {
    lines.push(overdue(d.onsite_due_at)
      ? '工作人员应在 ' + when(d.onsite_due_at) + ' 前到场，已超时，请同时拨打物业值班电话'
      : '工作人员将在 ' + when(d.onsite_due_at) + ' 前赶到现场')
  }
  if (d.reply_due_at && open && !replies(order).length) {
    lines.push(overdue(d.reply_due_at)
      ? '答复时限：应在 ' + when(d.reply_due_at) + ' 前答复您，已超时，可以催办'
      : '答复时限：将在 ' + when(d.reply_due_at) + ' 前答复您' + (order.important ? '（经理亲自处理）' : ''))
  }
  if (d.callback_due_at && has(DONE, s)) {
    lines.push('服务中心将在 ' + when(d.callback_due_at) + ' 前回访，听取您对处理结果的意见')
  }
  return lines
}

// Deadlines (order.deadlines) as sentences for the owner, only those that still matter.
function deadlineLines(order, now) {
  const d = order.deadlines || {}
  const base = now === undefined ? Date.now() : now
  if (order.kind === 'complaint') return complaintDeadlineLines(order, base)
  const lines = []
  const s = order.status
  const overdue = (value) => parseTime(value) < base
  if (d.confirm_due_at && (s === 'submitted' || s === 'dispatched')) {
    lines.push(overdue(d.confirm_due_at)
      ? '应在 ' + formatFriendly(d.confirm_due_at, base) + ' 前与您确认上门时间，已超时，可以催单'
      : '服务中心将在 ' + formatFriendly(d.confirm_due_at, base) + ' 前与您确认上门时间')
  }
  if (d.complete_due_at && has(OPEN, s)) {
    lines.push(overdue(d.complete_due_at)
      ? '承诺 ' + formatFriendly(d.complete_due_at, base) + ' 前完工，已超时，可以催单'
      : '承诺 ' + formatFriendly(d.complete_due_at, base) + ' 前完工')
  }
  if (d.callback_due_at && has(DONE, s)) {
    lines.push('服务中心将在 ' + formatFriendly(d.callback_due_at, base) + ' 前电话回访，听取您的意见')
  }
  return lines
}

const ACTORS = { owner: '业主', staff: '物业', system: '系统' }

// Timeline events, newest first, with the texts shown.
function timeline(events) {
  return (events || [])
    .map((e, i) => ({
      key: e.id || 'e' + i,
      label: e.action_label || e.action || '',
      note: e.note || '',
      at_text: formatTime(e.at),
      who: e.actor_name || ACTORS[e.actor] || '',
    }))
    .reverse()
}

// An order (summary or full) with everything the templates show precomputed.
function decorate(order, now) {
  const o = order || {}
  const materials = (o.materials || []).map((m, i) => ({
    key: 'm' + i,
    name: m.name,
    unit: m.unit,
    quantity_text: formatQuantity(m.quantity),
    unit_price_text: formatYuan(m.unit_price_fen),
    amount_text: formatYuan(m.amount_fen),
  }))
  const amountFen = o.final_fen !== null && o.final_fen !== undefined ? o.final_fen : o.quote_fen
  return Object.assign({}, o, {
    badge_style: badgeStyle(o.status),
    house_label: (o.house && o.house.label) || '',
    created_text: formatTime(o.created_at),
    appointment_text: o.appointment_at ? formatFriendly(o.appointment_at, now) : '',
    preferred_text: o.preferred_time ? formatFriendly(o.preferred_time, now) : '',
    completed_text: formatTime(o.completed_at),
    quote_text: formatYuan(o.quote_fen),
    final_text: formatYuan(o.final_fen),
    amount_text: formatYuan(amountFen), // list pages: final when known, else the quote
    materials_list: materials,
    materials_text: o.materials_fen ? formatYuan(o.materials_fen) : '',
    paid_text: o.paid_fen ? formatYuan(o.paid_fen) : '',
    due_fen: amountDue(o),
    due_text: amountDue(o) ? formatYuan(amountDue(o)) : '',
    replies: o.kind === 'complaint' ? replies(o) : [],
    deadline_lines: deadlineLines(o, now),
    complete_due_text: o.deadlines && o.deadlines.complete_due_at && has(OPEN, o.status) ? formatFriendly(o.deadlines.complete_due_at, now) : '',
    events: timeline(o.timeline),
    offer_expires_text: o.offer_expires_at ? formatFriendly(o.offer_expires_at, now) : '',
    breach_list: (o.breaches || []).map((b, i) => ({
      key: 'b' + i,
      label: b.clock_label || b.clock,
      level: b.level,
      due_text: formatTime(b.due_at),
      detected_text: formatTime(b.detected_at),
    })),
  })
}

module.exports = {
  STATUS_COLORS,
  OPEN,
  CANCELLABLE,
  DONE,
  badgeStyle,
  ownerActions,
  workerActions,
  deskActions,
  staffCan,
  deadlineLines,
  amountDue,
  replies,
  timeline,
  decorate,
}
