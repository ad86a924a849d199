// Book a paid service: house, quantity, description, preferred time -> POST /api/v1/work-orders
// {kind: "service", house_id, service_item_id, quantity, description, preferred_time}.
// The price shown is an estimate (price x quantity); the server computes the quote, so no amount is sent.
// Before sending (inside the tap, as WeChat requires) the "工单进度通知" subscription is requested when
// no message credit is left. On success: the order's detail page.
const api = require('../../utils/api')
const houses = require('../../utils/houses')
const subscribe = require('../../utils/subscribe')
const { formatYuan } = require('../../utils/money')
const { toast, fieldErrors, whenData, whenMethods } = require('../../utils/ui')

const ORDER_TEMPLATE = 'order_status'
const MIN_QTY = 1
const MAX_QTY = 99
const FIELDS = ['house_id', 'service_item_id', 'quantity', 'description', 'preferred_time']

Component({
  data: {
    loading: true,
    error: '',
    houses: [],
    houseIndex: 0,
    item: null,
    quantity: 1,
    description: '',
    when: whenData(),
    estimate: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: Object.assign({}, whenMethods, {
    onLoad(query) {
      this.itemId = Number((query && query.item_id) || 0)
      this.houseId = (query && query.house_id) || ''
      this.subscribeIds = []
      subscribe.idsToAsk([ORDER_TEMPLATE]).then((ids) => {
        this.subscribeIds = ids
      })
      return this.load()
    },

    // Approved houses, then the catalog of the chosen house's community (the item belongs to it; only
    // houses of that community are offered).
    load() {
      this.setData({ loading: true, error: '' })
      return houses
        .approvedHouses()
        .then((list) => {
          if (!list.length) throw new api.ApiError('请先绑定房屋，审核通过后即可预约')
          const chosen = list[houses.indexOf(list, this.houseId)]
          const same = list.filter((h) => h.community_code === chosen.community_code)
          this.setData({ houses: same, houseIndex: houses.indexOf(same, chosen.id) })
          return api.get('/api/v1/catalog', { community: chosen.community_code })
        })
        .then((catalog) => {
          const item = (catalog.items || []).find((it) => it.id === this.itemId)
          if (!item) throw new api.ApiError('该服务已下架或不在本小区服务范围内')
          this.setData({
            loading: false,
            item: Object.assign({}, item, { price_text: formatYuan(item.price_fen) + '/' + (item.unit || '次') }),
          })
          this.updateEstimate()
        })
        .catch((err) => this.setData({ loading: false, error: err.message }))
    },

    reload() {
      return this.load()
    },

    updateEstimate() {
      const item = this.data.item
      const q = Number(this.data.quantity)
      const ok = item && Number.isInteger(q) && q >= MIN_QTY && q <= MAX_QTY
      this.setData({
        estimate: ok ? formatYuan(item.price_fen) + ' × ' + q + ' = ' + formatYuan(item.price_fen * q) : '',
      })
    },

    onHouseChange(e) {
      this.setData({ houseIndex: Number(e.detail.value) || 0, 'errors.house_id': '' })
    },

    setQuantity(q) {
      this.setData({ quantity: q, 'errors.quantity': '' })
      this.updateEstimate()
    },

    onMinus() {
      const q = parseInt(this.data.quantity, 10) || MIN_QTY
      this.setQuantity(Math.max(MIN_QTY, q - 1))
    },

    onPlus() {
      const q = parseInt(this.data.quantity, 10) || 0
      this.setQuantity(Math.min(MAX_QTY, q + 1))
    },

    // Typing: keep what was typed (it may be empty while editing); clamp when the field is left.
    onQuantityInput(e) {
      const text = String(e.detail.value || '').replace(/\D/g, '')
      this.setData({ quantity: text === '' ? '' : parseInt(text, 10), 'errors.quantity': '' })
      this.updateEstimate()
    },

    onQuantityBlur() {
      const q = parseInt(this.data.quantity, 10)
      this.setQuantity(isNaN(q) ? MIN_QTY : Math.min(MAX_QTY, Math.max(MIN_QTY, q)))
    },

    onDescriptionInput(e) {
      this.setData({ description: e.detail.value, 'errors.description': '' })
    },

    submit() {
      if (this.data.submitting || !this.data.item) return Promise.resolve()
      const house = this.data.houses[this.data.houseIndex]
      const errors = {}
      const q = Number(this.data.quantity)
      if (!Number.isInteger(q) || q < MIN_QTY || q > MAX_QTY) errors.quantity = '数量为 1-99'
      const when = this.whenValue()
      if (when.error) errors.preferred_time = when.error
      if (!house) errors.house_id = '请选择房屋'
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: '请检查标红的内容' })
        return Promise.resolve()
      }
      const body = {
        kind: 'service',
        house_id: house.id,
        service_item_id: this.data.item.id,
        quantity: q,
        description: String(this.data.description || '').trim(),
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
          toast('预约已提交', 'success')
          wx.redirectTo({ url: '/pages/orders/detail?id=' + order.id })
        })
        .catch((err) => {
          // Keep everything as typed; show the message and the per-field errors.
          const errs = fieldErrors(err)
          const known = {}
          FIELDS.forEach((key) => {
            if (errs[key]) known[key] = errs[key]
          })
          this.setData({ submitting: false, errors: known, formError: err.message })
        })
    },
  }),
})
