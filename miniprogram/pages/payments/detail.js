// One payment: GET /api/v1/payments/{id}. Opened after paying (bills, paid-service orders) and from the
// "缴费成功通知" subscribe message (pages/payments/detail?id=).
//
// The electronic receipt (GET /api/v1/payments/{id}/receipt) is HTML behind the Authorization header: a
// web-view cannot send that header (nor show a downloaded local file), so "查看电子收据" renders the receipt
// from the payment JSON instead (receipt number, items, amounts, time) and offers "复制收据号".
// FeePaymentOut lists only bill_ids / work_order_ids, so the item lines are looked up in GET /api/v1/bills
// and GET /api/v1/work-orders/{id}.
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const bills = require('../../utils/bills')
const { formatYuan } = require('../../utils/money')
const { toast } = require('../../utils/ui')

Component({
  data: {
    loading: true,
    error: '',
    payment: null,
    items: [],
    itemsState: '', // loading | ok | failed
    showReceipt: false,
    refreshing: false,
  },

  methods: {
    onLoad(query) {
      this.paymentId = Number((query && query.id) || 0)
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!this.paymentId) {
        this.setData({ loading: false, error: '未找到该支付' })
        return Promise.resolve()
      }
      if (!this.data.payment) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/payments/' + this.paymentId)
        .then((payment) => {
          const first = !this.data.payment
          this.setData({ loading: false, error: '', payment: pay.decorate(payment) })
          if (first || this.data.itemsState === 'failed') return this.loadItems(payment)
          return null
        })
        .catch((err) => {
          if (this.data.payment) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    reload() {
      return this.load()
    },

    // "刷新" while the payment is still being confirmed.
    onRefresh() {
      if (this.data.refreshing) return Promise.resolve()
      this.setData({ refreshing: true })
      return this.load().then(() => {
        this.setData({ refreshing: false })
        if (this.data.payment && this.data.payment.status === 'pending') toast('还在等待微信支付的结果，请稍后再试')
      })
    },

    // The lines: bills first (in the payment's order), then paid-service orders.
    loadItems(payment) {
      const billIds = payment.bill_ids || []
      const orderIds = payment.work_order_ids || []
      if (!billIds.length && !orderIds.length) {
        this.setData({ items: [], itemsState: 'ok' })
        return Promise.resolve()
      }
      this.setData({ itemsState: 'loading' })
      const billJob = billIds.length
        ? api.get('/api/v1/bills').then((list) => {
          const byId = {}
          ;(list || []).forEach((b) => {
            byId[b.id] = b
          })
          return billIds.map((id) => {
            const b = byId[id]
            return b
              ? { key: 'b' + id, what: b.item + ' ' + bills.periodText(b.period), house: (b.house && b.house.label) || '', amount_text: formatYuan(b.amount_fen) }
              : { key: 'b' + id, what: '账单 ' + id, house: '', amount_text: '' }
          })
        })
        : Promise.resolve([])
      const orderJob = Promise.all(
        orderIds.map((id) =>
          api.get('/api/v1/work-orders/' + id).then((o) => ({
            key: 'o' + id,
            what: '有偿服务 ' + o.number + ' ' + o.title,
            house: (o.house && o.house.label) || '',
            // One order per payment: the payment's amount is what was paid for it.
            amount_text: orderIds.length === 1 && !billIds.length ? formatYuan(payment.amount_fen) : '',
          })),
        ),
      )
      return Promise.all([billJob, orderJob]).then(
        ([billLines, orderLines]) => this.setData({ items: billLines.concat(orderLines), itemsState: 'ok' }),
        () => this.setData({ itemsState: 'failed' }),
      )
    },

    retryItems() {
      return this.data.payment ? this.loadItems(this.data.payment) : Promise.resolve()
    },

    openReceipt() {
      if (!this.data.payment || !this.data.payment.receipt_no) return
      this.setData({ showReceipt: true })
      wx.pageScrollTo({ selector: '#receipt', duration: 200 })
    },

    closeReceipt() {
      this.setData({ showReceipt: false })
    },

    copyReceiptNo() {
      const no = this.data.payment && this.data.payment.receipt_no
      if (!no) return
      wx.setClipboardData({ data: no, fail: () => toast('复制失败，请长按收据号手动复制') })
    },
  },
})
