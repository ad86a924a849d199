const { setup, flush, loadPage, text, exists, all, tap, input, envelope } = require('./helpers/env')
const { staffOrder, STATUS_LABELS } = require('./helpers/orders')

let fake
let wxState
let me
let current

const RECEPTIONIST = {
  id: 2, name: '刘芳', role: 'receptionist', role_label: '接待员', department: 'service_center', department_label: '服务中心',
  permissions: ['review_bindings', 'desk', 'assign', 'collect_payments'], on_duty: true, active: true,
}
const SUPERVISOR = { id: 3, name: '赵主管', role: 'supervisor', role_label: '主管', department: 'engineering', department_label: '工程部', permissions: ['assign', 'manage_staff'] }

function member(id, name, role) {
  return { id, name, role, role_label: role === 'worker' ? '员工' : '主管', department: 'engineering', department_label: '工程部', skills: ['water'], on_duty: true, active: true }
}

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  me = RECEPTIONIST
  current = staffOrder(7, {
    status: 'dispatched',
    assignee: { id: 11, name: '王师傅', phone: '13900000011' },
    received_by: { id: 2, name: '刘芳', phone: '13900000002' },
    channel: 'phone',
    channel_label: '电话',
    breaches: [
      { clock: 'confirm', clock_label: '预约确认（10 分钟）', level: 1, round: 0, due_at: '2026-11-23T10:15:00+08:00', detected_at: '2026-11-23T10:16:00+08:00' },
    ],
    timeline: [
      { id: 1, at: '2026-11-23T10:05:00+08:00', actor: 'staff', actor_name: '刘芳', action: 'created', action_label: '提交', note: '电话受理' },
      { id: 2, at: '2026-11-23T10:06:00+08:00', actor: 'system', actor_name: null, action: 'dispatch', action_label: '派单', note: '' },
      { id: 3, at: '2026-11-23T10:16:00+08:00', actor: 'system', actor_name: null, action: 'breach', action_label: '超时', note: '预约确认超时' },
    ],
  })
  fake.on('GET', '/api/v1/staff/me', () => me)
  fake.on('GET', '/api/v1/staff/work-orders/:id', () => current)
  fake.on('GET', '/api/v1/staff/members', () => [member(11, '王师傅', 'worker'), member(12, '李师傅', 'worker'), member(3, '赵主管', 'supervisor')])
  fake.on('POST', '/api/v1/staff/work-orders/:id/assign', (req) => {
    current = Object.assign({}, current, { assignee: { id: req.body.assignee_id, name: '李师傅', phone: '13900000012' } })
    return current
  })
  fake.on('POST', '/api/v1/staff/work-orders/:id/callback', (req) => {
    const unsatisfied = req.body.result === 'unsatisfied'
    current = Object.assign({}, current, unsatisfied
      ? { status: 'submitted', status_label: STATUS_LABELS.submitted, assignee: null, needs_callback: true, callback_at: null }
      : { callback_at: '2026-11-23T16:00:00+08:00', needs_callback: false })
    return { status: 201, body: { id: 1, order_id: 7, result: req.body.result, result_label: unsatisfied ? '不满意' : '满意', note: req.body.note, at: '2026-11-23T16:00:00+08:00', staff: { id: 2, name: '刘芳' } } }
  })
})

async function open() {
  const page = loadPage('pages/staff/orders/detail')
  page.instance.onLoad({ id: '7' })
  await flush()
  return page
}

test('shows breaches with their clock and due time, and the full timeline', async () => {
  const page = await open()
  expect(fake.requests().sort()).toEqual(['GET /api/v1/staff/me', 'GET /api/v1/staff/work-orders/7'])
  expect(text(page, '#breaches')).toContain('预约确认（10 分钟）')
  expect(text(page, '#breaches')).toContain('应于 2026-11-23 10:15 前完成')
  expect(text(page, '#breaches')).toContain('1 级督办')
  expect(text(page, '#details')).toContain('电话（刘芳受理）')
  const events = all(page, '.event').map((n) => n.dom.textContent.replace(/\s+/g, ' '))
  expect(events).toHaveLength(3)
  expect(events[0]).toContain('超时')
  expect(events[2]).toContain('刘芳：电话受理')
})

test('reassign to an on-duty member of the order department', async () => {
  const page = await open()
  expect(text(page, '#assign')).toBe('改派')
  await tap(page, '#assign')
  expect(fake.requests()).toContain('GET /api/v1/staff/members?department=engineering&on_duty=true')
  const members = all(page, '.member')
  expect(members.map((m) => m.dom.textContent.replace(/\s+/g, ''))).toEqual(['王师傅·员工（当前）', '李师傅·员工', '赵主管·主管'])
  await tap(page, '#assign-confirm')
  expect(text(page, '#assign-error')).toBe('请选择员工')
  await tap(page, members[1])
  await tap(page, '#assign-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/work-orders/7/assign').map((c) => c.body)).toEqual([{ assignee_id: 12 }])
  expect(exists(page, '#assign-dialog')).toBe(false)
  expect(text(page, '#assignee')).toContain('李师傅')
  expect(wxState.toasts).toContain('已派给李师傅')
})

test('a refused reassign (403) shows the message and keeps the dialog', async () => {
  me = SUPERVISOR
  fake.on('POST', '/api/v1/staff/work-orders/:id/assign', () => envelope(403, 'role_forbidden', '只有接待员、经理和本部门主管可以派单'))
  const page = await open()
  await tap(page, '#assign')
  await tap(page, all(page, '.member')[1])
  await tap(page, '#assign-confirm')
  expect(text(page, '#assign-error')).toBe('只有接待员、经理和本部门主管可以派单')
  expect(exists(page, '#assign-dialog')).toBe(true)
  expect(text(page, '#assignee')).toContain('王师傅')
})

test('no reassign for a supervisor of another department, a worker, or a finished order', async () => {
  me = Object.assign({}, SUPERVISOR, { department: 'cleaning' })
  let page = await open()
  expect(exists(page, '#assign')).toBe(false)

  me = { id: 11, role: 'worker', department: 'engineering', permissions: [] }
  page = await open()
  expect(exists(page, '#assign')).toBe(false)

  me = RECEPTIONIST
  current = Object.assign({}, current, { status: 'on_site' })
  page = await open()
  expect(exists(page, '#assign')).toBe(false)
})

test('record a callback once the work is done', async () => {
  current = Object.assign({}, current, { status: 'completed', status_label: '待确认', needs_callback: true })
  const page = await open()
  expect(text(page, '#callback-state')).toBe('回访：待回访')
  expect(exists(page, '#assign')).toBe(false)
  await tap(page, '#callback-submit')
  expect(text(page, '#callback-error')).toBe('请选择回访结果')
  await tap(page, all(page, '.result')[0])
  await input(page, '#note', '业主满意')
  await tap(page, '#callback-submit')
  await flush()
  expect(fake.callsTo('POST', '/api/v1/staff/work-orders/7/callback').map((c) => c.body)).toEqual([{ result: 'satisfied', note: '业主满意' }])
  expect(wxState.toasts).toContain('已记录回访')
  expect(text(page, '#callback-state')).toBe('回访：已回访（2026-11-23 16:00）')
})

test('an unsatisfied callback explains the rework and reloads the order', async () => {
  current = Object.assign({}, current, { status: 'confirmed', status_label: '已确认' })
  const page = await open()
  await tap(page, all(page, '.result')[1])
  expect(text(page, '#unsatisfied-hint')).toContain('免费返工')
  await tap(page, '#callback-submit')
  await flush()
  expect(fake.callsTo('POST', '/api/v1/staff/work-orders/7/callback').map((c) => c.body)).toEqual([{ result: 'unsatisfied', note: '' }])
  expect(text(page, '#status')).toBe('待派单')
  expect(exists(page, '#callback')).toBe(false)
  expect(text(page, '#assign')).toBe('派单')
})

test('callbacks are for the desk; a refused one shows why and keeps the note', async () => {
  current = Object.assign({}, current, { status: 'completed' })
  me = SUPERVISOR
  let page = await open()
  expect(exists(page, '#callback')).toBe(false)

  me = RECEPTIONIST
  fake.on('POST', '/api/v1/staff/work-orders/:id/callback', () => envelope(403, 'role_forbidden', '回访由服务中心接待员或经理记录'))
  page = await open()
  await tap(page, all(page, '.result')[0])
  await input(page, '#note', '已电话联系')
  await tap(page, '#callback-submit')
  expect(text(page, '#callback-error')).toBe('回访由服务中心接待员或经理记录')
  expect(page.instance.data.note).toBe('已电话联系')
})
