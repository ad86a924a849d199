// My work orders: GET /api/v1/work-orders?kind=&page=&per_page=, tabs 全部 / 报修 / 有偿服务 / 投诉,
// "加载更多", pull-down refresh; refreshed when coming back from a detail page.
const api = require('../../utils/api')
const { decorate } = require('../../utils/orders')
const { toast } = require('../../utils/ui')

const PER_PAGE = 20
const TABS = [
  { kind: '', label: '全部' },
  { kind: 'repair', label: '报修' },
  { kind: 'service', label: '有偿服务' },
  { kind: 'complaint', label: '投诉' },
]

Component({
  data: {
    tabs: TABS,
    tab: 0,
    loading: true,
    error: '',
    items: [],
    total: 0,
    page: 0,
    more: false,
    loadingMore: false,
  },

  methods: {
    onLoad(query) {
      const i = TABS.findIndex((t) => t.kind === ((query && query.kind) || ''))
      this.setData({ tab: i < 0 ? 0 : i })
      this.shown = false
      return this.refresh()
    },

    onShow() {
      // Back from a detail page: statuses may have changed.
      if (this.shown) this.refresh()
      this.shown = true
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh())
    },

    onTabTap(e) {
      const tab = Number(e.currentTarget.dataset.index)
      if (tab === this.data.tab) return Promise.resolve()
      this.setData({ tab, items: [], total: 0, page: 0, more: false })
      return this.refresh()
    },

    fetch(page) {
      return api.get('/api/v1/work-orders', { kind: TABS[this.data.tab].kind, page, per_page: PER_PAGE })
    },

    refresh() {
      const seq = (this.seq = (this.seq || 0) + 1) // a newer request (tab switch) wins
      if (!this.data.items.length) this.setData({ loading: true, error: '' })
      return this.fetch(1)
        .then((res) => {
          if (seq !== this.seq) return
          this.setData({
            loading: false,
            error: '',
            items: (res.items || []).map((o) => decorate(o)),
            total: res.total || 0,
            page: 1,
            more: PER_PAGE < (res.total || 0),
          })
        })
        .catch((err) => {
          if (seq !== this.seq) return
          if (this.data.items.length) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    loadMore() {
      if (this.data.loadingMore || !this.data.more) return Promise.resolve()
      const seq = this.seq
      this.setData({ loadingMore: true })
      return this.fetch(this.data.page + 1)
        .then((res) => {
          if (seq !== this.seq) return
          // A new order pushes items down a page: drop the ones already shown (the new one itself appears
          // on the next refresh).
          const seen = {}
          this.data.items.forEach((o) => {
            seen[o.id] = true
          })
          const fresh = (res.items || []).filter((o) => !seen[o.id]).map((o) => decorate(o))
          const page = this.data.page + 1
          this.setData({
            loadingMore: false,
            items: this.data.items.concat(fresh),
            total: res.total || 0,
            page,
            more: page * PER_PAGE < (res.total || 0) && (res.items || []).length > 0,
          })
        })
        .catch((err) => {
          this.setData({ loadingMore: false })
          toast(err.message)
        })
    },

    onReachBottom() {
      return this.loadMore()
    },

    openOrder(e) {
      wx.navigateTo({ url: '/pages/orders/detail?id=' + e.currentTarget.dataset.id })
    },

    goRepair() {
      wx.navigateTo({ url: '/pages/repairs/new' })
    },

    goServices() {
      wx.navigateTo({ url: '/pages/services/index' })
    },
  },
})
