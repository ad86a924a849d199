// Home: my houses, service entries (通知 with the unread badge), and the staff workbench for staff members.
const api = require('../../utils/api')
const { toast, decorateMembership } = require('../../utils/ui')

Component({
  data: {
    loading: true,
    error: '',
    user: null,
    staff: null,
    houses: [],
    unread: 0, // unread notices (badge on 通知)
    services: [
      { key: 'repair', name: '报修', url: '/pages/repairs/new', hint: '室内维修' },
      { key: 'service', name: '有偿服务', url: '/pages/services/index', hint: '便民服务' },
      { key: 'orders', name: '我的工单', url: '/pages/orders/index', hint: '查看进度' },
      { key: 'billing', name: '缴费', url: '/pages/bills/index', hint: '物业费、水电费' },
      { key: 'complaint', name: '投诉', url: '/pages/complaints/new', hint: '意见与投诉' },
      { key: 'notices', name: '通知', url: '/pages/notices/index', hint: '小区公告' },
    ],
  },

  methods: {
    onLoad() {
      this.loaded = false
    },

    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    // First show: the launch login already carries user/houses/staff. Later shows: GET /me.
    load() {
      const hadData = this.loaded
      if (!hadData) this.setData({ loading: true, error: '' })
      const next = hadData ? api.loadMe() : api.ensureLogin()
      return next
        .then((session) => {
          this.loaded = true
          this.setData({
            loading: false,
            error: '',
            user: session.user || null,
            staff: session.staff || null,
            houses: (session.houses || []).map(decorateMembership),
          })
          this.loadUnread(session.houses || [])
        })
        .catch((err) => {
          if (hadData) {
            toast(err.message) // keep what is on screen
          } else {
            this.setData({ loading: false, error: err.message })
          }
        })
    },

    reload() {
      this.load()
    },

    // The 通知 badge: unread_count from GET /api/v1/notices (one item is enough). Notices reach approved
    // houses only; a failure just leaves the badge as it was.
    loadUnread(memberships) {
      if (!memberships.some((m) => m.status === 'approved')) {
        this.setData({ unread: 0 })
        return Promise.resolve()
      }
      return api
        .get('/api/v1/notices', { page: 1, per_page: 1 })
        .then((res) => this.setData({ unread: (res && res.unread_count) || 0 }))
        .catch(() => {})
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },

    goHouses() {
      wx.navigateTo({ url: '/pages/houses/index' })
    },

    openHouse(e) {
      wx.navigateTo({ url: '/pages/houses/index?id=' + e.currentTarget.dataset.id })
    },

    goStaff() {
      wx.navigateTo({ url: '/pages/staff/bindings/index' })
    },

    goTasks() {
      wx.navigateTo({ url: '/pages/staff/tasks/index' })
    },

    onServiceTap(e) {
      const { url, name } = e.currentTarget.dataset
      if (url) wx.navigateTo({ url })
      else toast(name + '即将上线')
    },
  },
})
