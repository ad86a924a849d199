// Paying online with WeChat Pay (bills, paid-service orders).
//
// The client never decides an amount: it tells POST /api/v1/payments WHAT to pay ({bill_ids} or
// {work_order_id}); the server computes the amount, places the order at WeChat Pay and returns
// `pay_params`, which go to wx.requestPayment untouched. wx.requestPayment's success only means the user
// got through the payment sheet: the server learns that the money arrived from WeChat Pay's notification
// (POST /api/v1/pay/notify), so the client polls GET /api/v1/payments/{id} until it says "paid".
//
// A pending payment holds its bills (or order) until it is paid or expires. Paying the same things again
// after a cancel reuses that pending payment (its pay_params stay valid) instead of running into
// "409 bill_in_payment"; the pending ids are kept in memory while the mini-program runs.

const api = require('./api')
const subscribe = require('./subscribe')
const { formatYuan } = require('./money')
const { formatTime, parseTime } = require('./format')

// Tests shorten the interval; the product polls once a second, at most 15 times.
const settings = { pollInterval: 1000, pollMax: 15 }

const STATUS_COLORS = {
  pending: { color: '#b26a00', background: '#fff4e0' }, // 待支付
  paid: { color: '#1e8e3e', background: '#e7f6ec' }, // 已支付
  closed: { color: '#888888', background: '#eeeeee' }, // 已关闭
  refunding: { color: '#7b1fa2', background: '#f3e5f5' }, // 退款中
  partially_refunded: { color: '#7b1fa2', background: '#f3e5f5' }, // 部分退款
  refunded: { color: '#7b1fa2', background: '#f3e5f5' }, // 已退款
}

const METHODS = { wechat: '微信支付', cash: '现金', pos: 'POS 刷卡', transfer: '转账' }

const CANCELLED = 'pay_cancelled'
const FAILED = 'pay_failed'

const pendingByKey = {} // e.g. "bills:3,4" -> payment id

// -- wx.requestPayment ----------------------------------------------------------------------------------

// Resolves when the user completed the payment sheet. Rejects with an ApiError: code pay_cancelled when
// they closed it ("requestPayment:fail cancel"), pay_failed otherwise.
function requestPayment(params) {
  const p = params || {}
  return new Promise((resolve, reject) => {
    wx.requestPayment({
      timeStamp: p.timeStamp,
      nonceStr: p.nonceStr,
      package: p.package,
      signType: p.signType,
      paySign: p.paySign,
      success: () => resolve(),
      fail: (err) => {
        const msg = (err && err.errMsg) || ''
        if (/cancel/.test(msg)) reject(new api.ApiError('已取消支付', { code: CANCELLED }))
        else reject(new api.ApiError('支付未完成，请稍后重试', { code: FAILED }))
      },
    })
  })
}

// -- polling --------------------------------------------------------------------------------------------

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// GET /api/v1/payments/{id} until it is no longer pending (paid, normally), at most settings.pollMax
// times, settings.pollInterval apart. Resolves with the last payment seen (null if none could be read).
// A failed request counts as one try.
function pollUntilPaid(id) {
  let last = null
  const attempt = (n) =>
    api
      .get('/api/v1/payments/' + id)
      .then(
        (payment) => {
          last = payment
          return payment && payment.status !== 'pending'
        },
        () => false,
      )
      .then((done) => {
        if (done || n >= settings.pollMax) return last
        return wait(settings.pollInterval).then(() => attempt(n + 1))
      })
  return attempt(1)
}

// -- paying ---------------------------------------------------------------------------------------------

function usable(payment) {
  if (!payment) return false
  if (payment.status === 'paid') return true
  const expires = parseTime(payment.expires_at)
  return payment.status === 'pending' && !!payment.pay_params && (isNaN(expires) || expires - 30000 > Date.now())
}

// The pending payment made earlier for exactly these things, still payable, or null.
function reusable(key) {
  const id = pendingByKey[key]
  if (!id) return Promise.resolve(null)
  return api.get('/api/v1/payments/' + id).then(
    (payment) => {
      if (usable(payment)) return payment
      delete pendingByKey[key]
      return null
    },
    () => {
      delete pendingByKey[key]
      return null
    },
  )
}

// Call straight from the pay button's tap:
//   options.key          what is paid, e.g. "bills:3,4" or "order:7" (to reuse a pending payment)
//   options.create()     POST /api/v1/payments -> the payment (with pay_params)
//   options.subscribeIds templates to ask for first (wx.requestSubscribeMessage runs inside the tap)
//   options.onStage(s)   "paying" (the sheet is up), "confirming" (polling)
// Resolves {outcome: "paid" | "unconfirmed", payment}; rejects with an ApiError (pay_cancelled, pay_failed,
// or the API's error such as 409 bill_in_payment).
function pay(options) {
  const stage = (s) => options.onStage && options.onStage(s)
  return subscribe
    .askQuietly(options.subscribeIds) // synchronously, still inside the tap
    .then(() => reusable(options.key))
    .then((found) => found || options.create())
    .then((payment) => {
      if (payment.status === 'paid') return { outcome: 'paid', payment }
      if (!payment.pay_params) throw new api.ApiError('暂时无法发起支付，请稍后重试', { code: 'no_pay_params' })
      pendingByKey[options.key] = payment.id
      stage('paying')
      return requestPayment(payment.pay_params).then(() => {
        delete pendingByKey[options.key]
        stage('confirming')
        wx.showLoading({ title: '正在确认支付结果', mask: true })
        return pollUntilPaid(payment.id).then(
          (last) => {
            wx.hideLoading()
            const seen = last || payment
            return { outcome: seen.status === 'paid' ? 'paid' : 'unconfirmed', payment: seen }
          },
          (err) => {
            wx.hideLoading()
            throw err
          },
        )
      })
    })
}

function isCancel(err) {
  return !!err && err.code === CANCELLED
}

// -- showing a payment ----------------------------------------------------------------------------------

function badgeStyle(status) {
  const c = STATUS_COLORS[status] || { color: '#555555', background: '#eeeeee' }
  return 'color:' + c.color + ';background:' + c.background + ';'
}

function decorate(payment) {
  const p = payment || {}
  return Object.assign({}, p, {
    badge_style: badgeStyle(p.status),
    amount_text: formatYuan(p.amount_fen),
    refunded_text: p.refunded_fen ? formatYuan(p.refunded_fen) : '',
    method_label: METHODS[p.method] || p.method || '',
    created_text: formatTime(p.created_at),
    paid_text: formatTime(p.paid_at),
  })
}

// Tests only.
function _reset() {
  Object.keys(pendingByKey).forEach((k) => delete pendingByKey[k])
}

module.exports = { settings, requestPayment, pollUntilPaid, pay, isCancel, badgeStyle, decorate, METHODS, _reset }
