// Report a repair: house, category (urgent only where allowed), description, up to 9 photos (uploaded
// one by one as they are picked), preferred time -> POST /api/v1/work-orders {kind: "repair", ...,
// photos: [upload ids]}. The "工单进度通知" subscription is requested inside the submit tap.
const api = require('../../utils/api')
const houses = require('../../utils/houses')
const subscribe = require('../../utils/subscribe')
const { photoMethods, MAX_PHOTOS } = require('../../utils/upload')
const { toast, fieldErrors, whenData, whenMethods } = require('../../utils/ui')

const ORDER_TEMPLATE = 'order_status'
const FIELDS = ['house_id', 'category', 'urgent', 'description', 'photos', 'preferred_time']

Component({
  data: {
    loading: true,
    error: '',
    noHouse: false,
    houses: [],
    houseIndex: 0,
    categories: [],
    categoryIndex: -1,
    urgentAllowed: false,
    urgent: false,
    description: '',
    photos: [],
    maxPhotos: MAX_PHOTOS,
    photoError: '',
    when: whenData(),
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: Object.assign({}, photoMethods, houses.categoryFormMethods('repair_categories'), whenMethods, {
    onLoad(query) {
      this.houseId = (query && query.house_id) || ''
      this.subscribeIds = []
      subscribe.idsToAsk([ORDER_TEMPLATE]).then((ids) => {
        this.subscribeIds = ids
      })
      return this.load()
    },

    selectCategory(index) {
      const category = this.data.categories[index]
      const urgentAllowed = !!(category && category.urgent_allowed)
      this.setData({
        categoryIndex: category ? index : -1,
        urgentAllowed,
        urgent: urgentAllowed ? this.data.urgent : false,
        'errors.category': '',
      })
    },

    onCategoryChange(e) {
      this.selectCategory(Number(e.detail.value))
    },

    onUrgentChange(e) {
      this.setData({ urgent: !!e.detail.value })
    },

    onDescriptionInput(e) {
      this.setData({ description: e.detail.value, 'errors.description': '' })
    },

    submit() {
      if (this.data.submitting || this.data.loading) return Promise.resolve()
      const house = this.data.houses[this.data.houseIndex]
      const category = this.data.categories[this.data.categoryIndex]
      const description = String(this.data.description || '').trim()
      const errors = {}
      if (!house) errors.house_id = '请选择房屋'
      if (!category) errors.category = '请选择报修类别'
      if (!description) errors.description = '请描述需要维修的问题'
      const when = this.whenValue()
      if (when.error) errors.preferred_time = when.error
      const photoProblem = this.photoProblem()
      if (photoProblem) errors.photos = photoProblem
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: photoProblem && Object.keys(errors).length === 1 ? photoProblem : '请检查标红的内容' })
        return Promise.resolve()
      }
      const body = {
        kind: 'repair',
        house_id: house.id,
        category: category.key,
        urgent: this.data.urgentAllowed && this.data.urgent,
        description,
        photos: this.uploadedPhotoIds(),
        preferred_time: when.iso,
      }
      this.setData({ submitting: true, errors: {}, formError: '' })
      // Synchronously inside the tap: the subscription prompt (skipped when credits remain).
      const ids = this.subscribeIds
      this.subscribeIds = []
      return subscribe
        .askQuietly(ids)
        .then(() => api.post('/api/v1/work-orders', body))
        .then((order) => {
          this.setData({ submitting: false })
          toast('报修已提交', 'success')
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
