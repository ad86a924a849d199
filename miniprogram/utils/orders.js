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

// What an owner may do with an order in its current status.
function ownerActions(order) {
  const s = order.status
  return {
    cancel: has(CANCELLABLE, s),
    urge: has(OPEN, s),
    confirm: s === 'completed',
    rework: s === 'completed',
    rate: s === 'confirmed' && (order.rating === null || order.rating === undefined),
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

// Deadlines (order.deadlines) as sentences for the owner, only those that still matter.
function deadlineLines(order, now) {
  const d = order.deadlines || {}
  const base = now === undefined ? Date.now() : now
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
  timeline,
  decorate,
}
