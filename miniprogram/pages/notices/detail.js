// One notice: GET /api/v1/notices/{id} (the GET also marks it read). Opened from the list and from the
// "物业通知" subscribe message (pages/notices/detail?id=). Water and power cuts show their time range.
const api = require('../../utils/api')
const { decorate } = require('../../utils/notices')

Component({
  data: {
    loading: true,
    error: '',
    notice: null,
  },

  methods: {
    onLoad(query) {
      this.noticeId = Number((query && query.id) || 0)
      return this.load()
    },

    load() {
      if (!this.noticeId) {
        this.setData({ loading: false, error: '未找到该通知' })
        return Promise.resolve()
      }
      this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/notices/' + this.noticeId)
        .then((notice) => this.setData({ loading: false, notice: decorate(notice) }))
        .catch((err) => this.setData({ loading: false, error: err.message }))
    },

    reload() {
      return this.load()
    },

    goList() {
      wx.redirectTo({ url: '/pages/notices/index' })
    },
  },
})
