// My notices: GET /api/v1/notices?page=&per_page= (my houses' community and buildings, newest first),
// an unread dot per notice, the unread_count badge, "全部已读" (POST /api/v1/notices/read-all),
// pull-down refresh, "加载更多"; refreshed when coming back from a notice.
const api = require('../../utils/api')
const { decorate } = require('../../utils/notices')
const { toast } = require('../../utils/ui')

const PER_PAGE = 20

Component({
  data: {
    loading: true,
    error: '',
    items: [],
    unreadCount: 0,
    page: 0,
    more: false,
    loadingMore: false,
    markingAll: false,
  },

  methods: {
    onLoad() {
      this.shown = false
      return this.refresh()
    },

    onShow() {
      // Back from a notice: it is read now.
      if (this.shown) this.refresh()
      this.shown = true
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh())
    },

    fetch(page) {
      return api.get('/api/v1/notices', { page, per_page: PER_PAGE })
    },

    refresh() {
      const seq = (this.seq = (this.seq || 0) + 1)
      if (!this.data.items.length) this.setData({ loading: true, error: '' })
      return this.fetch(1)
        .then((res) => {
          if (seq !== this.seq) return
          this.setData({
            loading: false,
            error: '',
            items: (res.items || []).map(decorate),
            unreadCount: res.unread_count || 0,
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
          const seen = {}
          this.data.items.forEach((n) => {
            seen[n.id] = true
          })
          const page = this.data.page + 1
          this.setData({
            loadingMore: false,
            items: this.data.items.concat((res.items || []).filter((n) => !seen[n.id]).map(decorate)),
            unreadCount: res.unread_count || 0,
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

    markAllRead() {
      if (this.data.markingAll || !this.data.unreadCount) return Promise.resolve()
      this.setData({ markingAll: true })
      return api.post('/api/v1/notices/read-all').then(
        (res) => {
          const items = this.data.items.map((n) => Object.assign({}, n, { read: true }))
          this.setData({ markingAll: false, items, unreadCount: (res && res.unread_count) || 0 })
          toast('已全部标记为已读', 'success')
        },
        (err) => {
          this.setData({ markingAll: false })
          toast(err.message)
        },
      )
    },

    openNotice(e) {
      const id = Number(e.currentTarget.dataset.id)
      const index = this.data.items.findIndex((n) => n.id === id)
      // The detail marks it read on the server; show that here right away.
      if (index >= 0 && !this.data.items[index].read) {
        this.setData({ ['items[' + index + '].read']: true, unreadCount: Math.max(0, this.data.unreadCount - 1) })
      }
      wx.navigateTo({ url: '/pages/notices/detail?id=' + id })
    },
  },
})
