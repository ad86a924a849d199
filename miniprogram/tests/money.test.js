const { yuan, formatYuan, toHundredths, lineAmountFen, formatQuantity } = require('../utils/money')
const { toIso, formatFriendly, chinaDate, parseTime } = require('../utils/format')
const orders = require('../utils/orders')
const { order } = require('./helpers/orders')

describe('money', () => {
  test('fen -> yuan with two decimals', () => {
    expect(formatYuan(5000)).toBe('50.00 元')
    expect(formatYuan(0)).toBe('0.00 元')
    expect(formatYuan(5)).toBe('0.05 元')
    expect(formatYuan(1234567)).toBe('12345.67 元')
    expect(formatYuan(838)).toBe('8.38 元')
    expect(yuan(-150)).toBe('-1.50')
    expect(formatYuan(null)).toBe('')
    expect(formatYuan(undefined)).toBe('')
    expect(formatYuan(12.5)).toBe('') // fen are integers; anything else is a bug upstream
  })

  test('decimal quantities in hundredths, and line amounts rounded half up like the server', () => {
    expect(toHundredths('2.5')).toBe(250)
    expect(toHundredths('0.25')).toBe(25)
    expect(toHundredths('3')).toBe(300)
    expect(toHundredths(2.5)).toBe(250)
    expect(toHundredths('2.')).toBe(200)
    expect(toHundredths('2.555')).toBeNaN()
    expect(toHundredths('-1')).toBeNaN()
    expect(toHundredths('abc')).toBeNaN()
    expect(toHundredths('')).toBeNaN()
    expect(lineAmountFen(335, '2.5')).toBe(838) // 8.375 yuan -> 8.38
    expect(lineAmountFen(1999, '0.33')).toBe(660) // 659.67 -> 660
    expect(lineAmountFen(1000, '1.1')).toBe(1100) // no 1.1 * 1000 float surprise
    expect(lineAmountFen(1000, 'x')).toBeNaN()
    expect(formatQuantity('2.50')).toBe('2.5')
    expect(formatQuantity('3.00')).toBe('3')
    expect(formatQuantity(0.25)).toBe('0.25')
  })
})

describe('times', () => {
  test('picker values -> ISO 8601 with +08:00', () => {
    expect(toIso('2026-11-24', '09:30')).toBe('2026-11-24T09:30:00+08:00')
    expect(toIso('2026-11-24', '')).toBe('')
    expect(toIso('', '09:30')).toBe('')
  })

  test('deadlines in plain words, in China time', () => {
    const now = parseTime('2026-11-23T23:30:00+08:00')
    expect(chinaDate(0, now)).toBe('2026-11-23')
    expect(formatFriendly('2026-11-23T18:00:00+08:00', now)).toBe('今天 18:00')
    expect(formatFriendly('2026-11-24T01:30:00Z', now)).toBe('明天 09:30')
    expect(formatFriendly('2026-11-22T17:00:00+08:00', now)).toBe('昨天 17:00')
    expect(formatFriendly('2026-12-01T18:00:00+08:00', now)).toBe('12-01 18:00')
    expect(formatFriendly('2027-01-02T18:00:00+08:00', now)).toBe('2027-01-02 18:00')
  })
})

describe('order rules', () => {
  const owner = (status, extra) => orders.ownerActions(order(1, Object.assign({ status }, extra || {})))

  test('owner actions by status', () => {
    const none = { cancel: false, urge: false, confirm: false, rework: false, rate: false, pay: false }
    expect(owner('submitted')).toEqual(Object.assign({}, none, { cancel: true, urge: true }))
    expect(owner('accepted')).toEqual(Object.assign({}, none, { cancel: true, urge: true }))
    expect(owner('on_site')).toEqual(Object.assign({}, none, { urge: true }))
    expect(owner('paused')).toEqual(Object.assign({}, none, { urge: true }))
    expect(owner('completed')).toEqual(Object.assign({}, none, { confirm: true, rework: true }))
    expect(owner('confirmed')).toEqual(Object.assign({}, none, { rate: true }))
    expect(owner('confirmed', { rating: 5 }).rate).toBe(false)
    expect(owner('closed')).toEqual(none)
    expect(owner('cancelled')).toEqual(none)
  })

  test('complaints are rated straight after the final reply, never confirmed', () => {
    const c = (status, extra) => owner(status, Object.assign({ kind: 'complaint' }, extra || {}))
    expect(c('completed')).toMatchObject({ confirm: false, rework: false, rate: true })
    expect(c('completed', { rating: 2 }).rate).toBe(true) // reopened and answered again
    expect(c('confirmed')).toMatchObject({ rate: true })
    expect(c('confirmed', { rating: 4 }).rate).toBe(false)
    expect(c('closed').rate).toBe(false)
  })

  test('money due on a finished paid service', () => {
    expect(orders.amountDue(order(1, { kind: 'service', status: 'completed', final_fen: 6250, paid_fen: 1000 }))).toBe(5250)
    expect(orders.amountDue(order(1, { kind: 'service', status: 'closed', final_fen: 6250, paid_fen: 6250 }))).toBe(0)
    expect(orders.amountDue(order(1, { kind: 'service', status: 'on_site', final_fen: null }))).toBe(0)
    expect(orders.amountDue(order(1, { kind: 'repair', status: 'completed', final_fen: 1200 }))).toBe(0)
    expect(owner('confirmed', { kind: 'service', final_fen: 5000 }).pay).toBe(true)
  })

  test('desk actions follow permissions, the department and the status', () => {
    const o = order(1, { status: 'dispatched', department: 'engineering' })
    const done = order(2, { status: 'completed' })
    const reception = { role: 'receptionist', department: 'service_center', permissions: ['review_bindings', 'desk', 'assign'] }
    const supervisor = { role: 'supervisor', department: 'engineering' } // no permissions field: by role
    const otherSupervisor = { role: 'supervisor', department: 'cleaning' }
    const worker = { role: 'worker', department: 'engineering', permissions: [] }
    expect(orders.deskActions(reception, o)).toEqual({ assign: true, callback: false })
    expect(orders.deskActions(reception, done)).toEqual({ assign: false, callback: true })
    expect(orders.deskActions(supervisor, o)).toEqual({ assign: true, callback: false })
    expect(orders.deskActions(supervisor, done)).toEqual({ assign: false, callback: false })
    expect(orders.deskActions(otherSupervisor, o).assign).toBe(false)
    expect(orders.deskActions(worker, o).assign).toBe(false)
  })

  test('every status has a badge color', () => {
    Object.keys(require('./helpers/orders').STATUS_LABELS).forEach((s) => {
      expect(orders.STATUS_COLORS[s]).toBeDefined()
    })
    expect(orders.badgeStyle('completed')).toBe('color:#7b1fa2;background:#f3e5f5;')
  })

  test('deadline sentences only while they matter', () => {
    const now = parseTime('2026-11-23T12:00:00+08:00')
    const deadlines = { confirm_due_at: '2026-11-23T12:10:00+08:00', complete_due_at: '2026-11-23T18:00:00+08:00', callback_due_at: '2026-11-23T20:00:00+08:00' }
    expect(orders.deadlineLines(order(1, { status: 'submitted', deadlines }), now)).toEqual([
      '服务中心将在 今天 12:10 前与您确认上门时间',
      '承诺 今天 18:00 前完工',
    ])
    expect(orders.deadlineLines(order(1, { status: 'on_site', deadlines }), parseTime('2026-11-23T19:00:00+08:00'))).toEqual([
      '承诺 今天 18:00 前完工，已超时，可以催单',
    ])
    expect(orders.deadlineLines(order(1, { status: 'completed', deadlines }), now)).toEqual([
      '服务中心将在 今天 20:00 前电话回访，听取您的意见',
    ])
    expect(orders.deadlineLines(order(1, { status: 'cancelled', deadlines }), now)).toEqual([])
  })
})
