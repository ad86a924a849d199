// One of my work orders: GET /api/v1/work-orders/{id}. Opened from the list and from the "工单进度通知" and
// "投诉处理回复" subscribe messages (pages/orders/detail?id=). Actions appear only when they fit the status;
// a 409 means the order moved on meanwhile: the message is shown and the order reloaded.
// Complaints show the staff replies (timeline "reply" / "resolve") first and are rated right after the
// final reply. A finished paid-service order with money due can be paid online (utils/pay.js).
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const subscribe = require('../../utils/subscribe')
const { decorate, ownerActions } = require('../../utils/orders')
const { formatYuan } = require('../../utils/money')
const { loadRemotePhotos } = require('../../utils/upload')
const { toast, confirm, reasonDialogMethods } = require('../../utils/ui')

const LOW_RATING = 2 // this or fewer stars: free rework and a callback; complaints reopen (server rule)
const PAYMENT_TEMPLATE = 'payment_result'

const DIALOGS = {
  cancel: {
    title: '取消工单',
    placeholder: '取消原因（选填）',
    required: false,
    confirmText: '确认取消',
    danger: true,
  },
  rework: {
    title: '不满意，申请返工',
    placeholder: '请说明哪里不满意（必填），将为您免费返工',
    required: true,
    missing: '请填写不满意的原因',
    confirmText: '提交',
    danger: true,
  },
}

Component({
  data: {
    loading: true,
    error: '',
    order: null,
    actions: {},
    notice: '',
    busy: '', // the action in flight
    photos: [],
    completionPhotos: [],

    dialog: null,
    reason: '',
    dialogError: '',
    dialogSaving: false,

    stars: [1, 2, 3, 4, 5],
    score: 0,
    comment: '',
    lowScore: LOW_RATING,
    ratingError: '',
    ratingSaving: false,

    payStage: '', // '' | creating | paying | confirming
  },

  methods: Object.assign({}, reasonDialogMethods, {
    onLoad(query) {
      this.orderId = Number((query && query.id) || 0)
      this.dialogs = DIALOGS
      this.shown = false
      this.paySubscribeIds = null // loaded once the order shows money due
      return this.load()
    },

    onShow() {
      // Back from the payment page (or elsewhere): the order may have changed.
      if (this.shown && this.data.order) this.load()
      this.shown = true
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!this.orderId) {
        this.setData({ loading: false, error: '未找到该工单' })
        return Promise.resolve()
      }
      if (!this.data.order) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/work-orders/' + this.orderId)
        .then((order) => this.show(order))
        .catch((err) => {
          if (this.data.order) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    reload() {
      return this.load()
    },

    show(order) {
      const before = this.data.order
      const actions = ownerActions(order)
      this.setData({ loading: false, error: '', order: decorate(order), actions })
      if (actions.pay && !this.paySubscribeIds) {
        this.paySubscribeIds = []
        subscribe.idsToAsk([PAYMENT_TEMPLATE]).then((ids) => {
          this.paySubscribeIds = ids
        })
      }
      const same = (a, b) => JSON.stringify(a || []) === JSON.stringify(b || [])
      const jobs = []
      if (!before || !same(before.photos, order.photos)) jobs.push(loadRemotePhotos(this, 'photos', order.photos))
      if (!before || !same(before.completion_photos, order.completion_photos)) {
        jobs.push(loadRemotePhotos(this, 'completionPhotos', order.completion_photos))
      }
      return Promise.all(jobs)
    },

    // After a failed action: 409 -> say why and reload (the order changed); others -> a toast.
    actionFailed(err) {
      if (err && err.status === 409) {
        this.setData({ notice: err.message })
        return this.load()
      }
      toast(err.message)
      return null
    },

    run(name, path, body, done) {
      if (this.data.busy) return Promise.resolve()
      this.setData({ busy: name, notice: '' })
      return api.post('/api/v1/work-orders/' + this.orderId + path, body).then(
        (order) => {
          this.setData({ busy: '' })
          this.show(order)
          if (done) done(order)
        },
        (err) => {
          this.setData({ busy: '' })
          return this.actionFailed(err)
        },
      )
    },

    // -- actions ------------------------------------------------------------------------------

    onCall() {
      const a = this.data.order && this.data.order.assignee
      if (a && a.phone) wx.makePhoneCall({ phoneNumber: a.phone, fail: () => {} })
    },

    onUrge() {
      return this.run('urge', '/urge', {}, () => toast('已催单，服务中心会尽快处理', 'success'))
    },

    onConfirm() {
      const order = this.data.order
      if (!order || this.data.busy) return Promise.resolve()
      const higher = !!order.amount_needs_confirmation
      const content = higher
        ? '报价 ' + formatYuan(order.quote_fen) + '，最终费用 ' + formatYuan(order.final_fen) +
          (order.materials_fen ? '（含材料费 ' + formatYuan(order.materials_fen) + '）' : '') + '。确认费用并确认完工？'
        : (order.final_fen ? '本次费用 ' + formatYuan(order.final_fen) + '。' : '') + '请确认服务已经完成。确认后可以评价本次服务。'
      return confirm({ title: higher ? '确认费用' : '确认完工', content, confirmText: '确认' }).then((ok) => {
        if (!ok) return null
        const body = higher ? { accept_final_fen: order.final_fen } : {}
        return this.run('confirm', '/confirm', body, () => toast('已确认完工', 'success'))
      })
    },

    submitDialog(kind, reason) {
      const path = kind === 'cancel' ? '/cancel' : '/reject-completion'
      return api.post('/api/v1/work-orders/' + this.orderId + path, { reason }).then(
        (order) => {
          this.show(order)
          toast(kind === 'cancel' ? '工单已取消' : '已申请返工，将重新派单', 'success')
        },
        (err) => {
          if (err.status === 409) this.actionFailed(err)
          throw err
        },
      )
    },

    // -- rating -------------------------------------------------------------------------------

    onStarTap(e) {
      this.setData({ score: Number(e.currentTarget.dataset.score), ratingError: '' })
    },

    onCommentInput(e) {
      this.setData({ comment: e.detail.value })
    },

    submitRating() {
      if (this.data.ratingSaving) return Promise.resolve()
      const score = this.data.score
      if (!score) {
        this.setData({ ratingError: '请选择星级' })
        return Promise.resolve()
      }
      this.setData({ ratingSaving: true, ratingError: '', notice: '' })
      const comment = String(this.data.comment || '').trim()
      return api.post('/api/v1/work-orders/' + this.orderId + '/rating', { score, comment }).then(
        (order) => {
          this.setData({ ratingSaving: false })
          this.show(order)
          const complaint = order.kind === 'complaint'
          const low = score <= LOW_RATING
          toast(low ? (complaint ? '投诉已重新打开，经理将亲自跟进' : '已为您安排免费返工') : '感谢您的评价', low ? 'none' : 'success')
        },
        (err) => {
          // Keep the stars and the comment.
          const fields = err.fields || {}
          const msg = fields.score || fields.comment
          this.setData({ ratingSaving: false, ratingError: msg ? [].concat(msg).join('；') : err.message })
          if (err.status === 409) this.actionFailed(err)
        },
      )
    },

    // -- paying (paid services) ------------------------------------------------------------------

    // POST /api/v1/payments {work_order_id} -> wx.requestPayment -> poll until the server says paid.
    // The amount is the server's (final - paid); the page only shows it.
    onPay() {
      if (this.data.payStage || this.data.busy || !this.data.actions.pay) return Promise.resolve()
      const ids = this.paySubscribeIds || []
      this.paySubscribeIds = []
      this.setData({ payStage: 'creating', notice: '' })
      return pay
        .pay({
          key: 'order:' + this.orderId,
          create: () => api.post('/api/v1/payments', { work_order_id: this.orderId }),
          subscribeIds: ids, // asked synchronously, inside this tap
          onStage: (stage) => this.setData({ payStage: stage }),
        })
        .then((result) => {
          this.setData({ payStage: '' })
          if (result.outcome !== 'paid') toast('支付结果确认中，请稍后查看')
          wx.navigateTo({ url: '/pages/payments/detail?id=' + result.payment.id })
        })
        .catch((err) => {
          this.setData({ payStage: '' })
          if (pay.isCancel(err)) {
            toast('已取消支付')
            return null
          }
          return this.actionFailed(err)
        })
    },

    // -- photos -------------------------------------------------------------------------------

    onPreview(e) {
      const list = this.data[e.currentTarget.dataset.list] || []
      const urls = list.filter((p) => p.status === 'ok').map((p) => p.path)
      if (urls.length) wx.previewImage({ urls, current: e.currentTarget.dataset.path })
    },
  }),
})
