// File a complaint: house, category (from the catalog's complaint_categories), description, up to 9
// photos, and for "服务态度" the staff member's name if known -> POST /api/v1/work-orders
// {kind: "complaint", house_id, category, description, photos, about_staff_name?}.
// An emergency category shows a red notice and asks to confirm before sending. The "投诉处理回复" and
// "工单进度通知" subscriptions are requested inside the tap (or the confirm dialog's callback, which
// WeChat also accepts), skipped when credits remain. On success: the order's detail page.
const api = require('../../utils/api')
const houses = require('../../utils/houses')
const subscribe = require('../../utils/subscribe')
const { photoMethods, MAX_PHOTOS } = require('../../utils/upload')
const { toast, fieldErrors } = require('../../utils/ui')

const TEMPLATES = ['complaint_reply', 'order_status']
const ABOUT_STAFF = 'service_attitude' // the only category that names a staff member
const FIELDS = ['house_id', 'category', 'description', 'photos', 'about_staff_name']

Component({
  data: {
    loading: true,
    error: '',
    noHouse: false,
    houses: [],
    houseIndex: 0,
    categories: [],
    categoryIndex: -1,
    emergency: false,
    aboutStaff: false,
    aboutStaffName: '',
    description: '',
    photos: [],
    maxPhotos: MAX_PHOTOS,
    photoError: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: Object.assign({}, photoMethods, houses.categoryFormMethods('complaint_categories'), {
    onLoad(query) {
      this.houseId = (query && query.house_id) || ''
      this.subscribeIds = []
      subscribe.idsToAsk(TEMPLATES).then((ids) => {
        this.subscribeIds = ids
      })
      return this.load()
    },

    selectCategory(index) {
      const category = this.data.categories[index]
      this.setData({
        categoryIndex: category ? index : -1,
        emergency: !!(category && category.emergency),
        // The name typed stays in the form when switching away and back; it is only sent for 服务态度.
        aboutStaff: !!(category && category.key === ABOUT_STAFF),
        'errors.category': '',
        'errors.about_staff_name': '',
      })
    },

    onCategoryChange(e) {
      this.selectCategory(Number(e.detail.value))
    },

    onAboutStaffInput(e) {
      this.setData({ aboutStaffName: e.detail.value, 'errors.about_staff_name': '' })
    },

    onDescriptionInput(e) {
      this.setData({ description: e.detail.value, 'errors.description': '' })
    },

    // The request body, or null after showing what is missing.
    validBody() {
      const house = this.data.houses[this.data.houseIndex]
      const category = this.data.categories[this.data.categoryIndex]
      const description = String(this.data.description || '').trim()
      const errors = {}
      if (!house) errors.house_id = '请选择房屋'
      if (!category) errors.category = '请选择投诉类别'
      if (!description) errors.description = '请描述投诉的内容'
      const photoProblem = this.photoProblem()
      if (photoProblem) errors.photos = photoProblem
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: photoProblem && Object.keys(errors).length === 1 ? photoProblem : '请检查标红的内容' })
        return null
      }
      const body = {
        kind: 'complaint',
        house_id: house.id,
        category: category.key,
        description,
        photos: this.uploadedPhotoIds(),
      }
      const name = String(this.data.aboutStaffName || '').trim()
      if (category.key === ABOUT_STAFF && name) body.about_staff_name = name
      return body
    },

    submit() {
      if (this.data.submitting || this.data.loading) return Promise.resolve()
      const body = this.validBody()
      if (!body) return Promise.resolve()
      this.setData({ errors: {}, formError: '' })
      if (!this.data.emergency) return this.send(body) // straight from the tap
      // Emergencies: confirm first; the subscription is asked inside the dialog's callback.
      return new Promise((resolve) => {
        wx.showModal({
          title: '提交紧急事件',
          content: '服务中心会立即通知在岗人员赶到现场。紧急情况请同时拨打物业值班电话。确认提交？',
          confirmText: '确认提交',
          cancelText: '返回',
          confirmColor: '#e54d42',
          success: (res) => resolve(res && res.confirm ? this.send(body) : null),
          fail: () => resolve(null),
        })
      })
    },

    // Call synchronously from a tap or a modal callback: the subscription prompt comes first.
    send(body) {
      this.setData({ submitting: true })
      const ids = this.subscribeIds
      this.subscribeIds = []
      return subscribe
        .askQuietly(ids)
        .then(() => api.post('/api/v1/work-orders', body))
        .then((order) => {
          this.setData({ submitting: false })
          toast('投诉已提交', 'success')
          wx.redirectTo({ url: '/pages/orders/detail?id=' + order.id })
        })
        .catch((err) => {
          const errs = fieldErrors(err)
          const known = {}
          FIELDS.forEach((key) => {
            if (errs[key]) known[key] = errs[key]
          })
          this.setData({ submitting: false, errors: known, formError: err.message })
        })
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },
  }),
})
