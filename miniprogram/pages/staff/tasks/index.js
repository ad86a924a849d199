// A worker's tasks: GET /api/v1/staff/tasks (unfinished work assigned to me, urgent first).
const api = require('../../../utils/api')
const { decorate } = require('../../../utils/orders')
const { toast } = require('../../../utils/ui')

Component({
  data: {
    loading: true,
    error: '',
    items: [],
  },

  methods: {
    onLoad() {
      this.shown = false
      return this.refresh()
    },

    onShow() {
      if (this.shown) this.refresh() // back from a task: its status changed
      this.shown = true
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh())
    },

    refresh() {
      if (!this.data.items.length) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/staff/tasks')
        .then((list) => this.setData({ loading: false, error: '', items: (list || []).map((o) => decorate(o)) }))
        .catch((err) => {
          if (this.data.items.length) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    openTask(e) {
      wx.navigateTo({ url: '/pages/staff/tasks/detail?id=' + e.currentTarget.dataset.id })
    },
  },
})
