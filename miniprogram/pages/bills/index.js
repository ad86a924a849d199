// 缴费: my unpaid bills (GET /api/v1/bills?status=unpaid), grouped by house and period, each line with
// its basis in plain words; all selected by default. Pay the selected ones: POST /api/v1/payments
// {bill_ids} -> wx.requestPayment(pay_params) -> poll GET /api/v1/payments/{id} until paid -> the payment
// page (utils/pay.js). The client sends only bill ids: the amount is the server's.
// The "缴费成功通知" subscription is asked in the same tap when no credit is left.
// Tab 已缴: GET /api/v1/bills?status=paid. Opened from the "缴费提醒" subscribe message (pages/bills/index).
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const subscribe = require('../../utils/subscribe')
const bills = require('../../utils/bills')
const { formatYuan } = require('../../utils/money')
const { toast } = require('../../utils/ui')

const PAYMENT_TEMPLATE = 'payment_result'
const TABS = [
  { key: 'unpaid', label: '待缴' },
  { key: 'paid', label: '已缴' },
]

// Why a 409 happened, and what to do.
function conflictText(err) {
  if (err.code === 'bill_in_payment') {
    return err.message + '。未完成的支付超时后会自动关闭，之后即可重新缴费；列表已刷新。'
  }
  return err.message + '。列表已刷新，请重新选择。'
}

Component({
  data: {
    tabs: TABS,
    tab: 0,

    loading: true,
    error: '',
    groups: [],
    count: 0,
    selectedCount: 0,
    selectedText: '',
    allSelected: true,
    notice: '',
    payStage: '', // '' | creating | paying | confirming

    paidLoading: false,
    paidLoaded: false,
    paidError: '',
    paidGroups: [],
  },

  methods: {
    onLoad(query) {
      this.list = [] // unpaid bills as the API sent them
      this.deselected = {} // bill id -> true: everything else is selected (new bills too)
      this.shown = false
      this.subscribeIds = []
      subscribe.idsToAsk([PAYMENT_TEMPLATE]).then((ids) => {
        this.subscribeIds = ids
      })
      const jobs = [this.refresh()]
      if (query && query.tab === 'paid') {
        this.setData({ tab: 1 })
        jobs.push(this.loadPaid())
      }
      return Promise.all(jobs)
    },

    onShow() {
      // Back from the payment page: the paid bills are gone. Not while the payment sheet is up.
      if (this.shown && !this.data.payStage) {
        this.refresh()
        if (this.data.paidLoaded) this.loadPaid()
      }
      this.shown = true
    },

    onPullDownRefresh() {
      const job = this.data.tab === 0 ? this.refresh() : this.loadPaid()
      return job.then(() => wx.stopPullDownRefresh())
    },

    onTabTap(e) {
      const tab = Number(e.currentTarget.dataset.index)
      if (tab === this.data.tab) return Promise.resolve()
      this.setData({ tab })
      return tab === 1 && !this.data.paidLoaded ? this.loadPaid() : Promise.resolve()
    },

    // -- unpaid ----------------------------------------------------------------------------------

    refresh() {
      const seq = (this.seq = (this.seq || 0) + 1)
      if (!this.list.length) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/bills', { status: 'unpaid' })
        .then((list) => {
          if (seq !== this.seq) return
          this.list = list || []
          this.setData({ loading: false, error: '' })
          this.render()
        })
        .catch((err) => {
          if (seq !== this.seq) return
          if (this.list.length) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    render() {
      const isSelected = (b) => !this.deselected[b.id]
      const selected = this.list.filter(isSelected)
      const sum = selected.reduce((total, b) => total + (b.amount_fen || 0), 0)
      this.setData({
        groups: bills.group(this.list, isSelected),
        count: this.list.length,
        selectedCount: selected.length,
        selectedText: formatYuan(sum),
        allSelected: selected.length === this.list.length,
      })
    },

    selectedIds() {
      return this.list.filter((b) => !this.deselected[b.id]).map((b) => b.id)
    },

    onToggleBill(e) {
      if (this.data.payStage) return
      const id = Number(e.currentTarget.dataset.id)
      if (this.deselected[id]) delete this.deselected[id]
      else this.deselected[id] = true
      this.setData({ notice: '' })
      this.render()
    },

    onToggleHouse(e) {
      if (this.data.payStage) return
      const house = this.data.groups.find((g) => g.key === e.currentTarget.dataset.key)
      if (!house) return
      house.ids.forEach((id) => {
        if (house.all_selected) this.deselected[id] = true
        else delete this.deselected[id]
      })
      this.setData({ notice: '' })
      this.render()
    },

    onToggleAll() {
      if (this.data.payStage) return
      const all = this.data.allSelected
      this.deselected = {}
      if (all) this.list.forEach((b) => (this.deselected[b.id] = true))
      this.setData({ notice: '' })
      this.render()
    },

    // Call straight from the tap: the subscription prompt (if any) runs synchronously first.
    onPay() {
      if (this.data.payStage || this.data.loading) return Promise.resolve()
      const ids = this.selectedIds()
      if (!ids.length) {
        this.setData({ notice: '请选择要缴纳的账单' })
        return Promise.resolve()
      }
      const subscribeIds = this.subscribeIds
      this.subscribeIds = []
      this.setData({ payStage: 'creating', notice: '' })
      return pay
        .pay({
          key: 'bills:' + ids.slice().sort((a, b) => a - b).join(','),
          create: () => api.post('/api/v1/payments', { bill_ids: ids }),
          subscribeIds,
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
            toast('已取消支付') // the selection stays as it was
            return null
          }
          if (err.status === 409) {
            this.setData({ notice: conflictText(err) })
            return this.refresh()
          }
          const fields = err.fields || {}
          this.setData({ notice: fields.bill_ids ? [].concat(fields.bill_ids).join('；') : err.message })
          return null
        })
    },

    // -- paid ------------------------------------------------------------------------------------

    loadPaid() {
      this.setData({ paidLoading: !this.data.paidLoaded, paidError: '' })
      return api
        .get('/api/v1/bills', { status: 'paid' })
        .then((list) => this.setData({ paidLoading: false, paidLoaded: true, paidGroups: bills.group(list || []) }))
        .catch((err) => {
          if (this.data.paidLoaded) toast(err.message)
          this.setData({ paidLoading: false, paidError: this.data.paidLoaded ? '' : err.message })
        })
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },
  },
})
