// Test environment: a fake API behind wx.request (a route table that records every request),
// fakes for the other wx APIs the pages use (wx.requestPayment: success, "fail cancel" or a failure, in
// the order of wxState.paymentAnswers), and a page loader built on miniprogram-simulate.
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.resolve(__dirname, '../..')
const config = require('../../config')
const api = require('../../utils/api')
const upload = require('../../utils/upload')
const pay = require('../../utils/pay')

const BASE = config.apiBase

function envelope(status, code, message, fields) {
  const error = { code, message }
  if (fields) error.fields = fields
  return { status, body: { error } }
}

// -- fake API ------------------------------------------------------------------------------------

class FakeApi {
  constructor() {
    this.routes = []
    this.calls = [] // every request: {method, path, query, body, headers, auth}
    this.tokens = new Set() // tokens the fake accepts
    this.loginCount = 0
    this.offline = false // true: every wx.request fails like a network error
    this.session = { user: { id: 1, name: null, phone: null, phone_verified: false }, houses: [], staff: null }
    this.on('POST', '/api/v1/auth/login', (req) => {
      this.loginCount += 1
      const token = 'tok-' + this.loginCount
      this.tokens.add(token)
      return {
        token,
        expires_at: '2099-01-01T00:00:00+08:00',
        user: this.session.user,
        houses: this.session.houses,
        staff: this.session.staff,
      }
    }, { auth: false })
    // Photos: POST /api/v1/uploads (wx.uploadFile) gives ids from 501 up; GET returns the bytes.
    this.uploadCount = 0
    this.on('POST', '/api/v1/uploads', () => {
      this.uploadCount += 1
      const id = 500 + this.uploadCount
      return { status: 201, body: { id, content_type: 'image/jpeg', size: 1024, url: '/api/v1/uploads/' + id } }
    })
    this.on('GET', '/api/v1/uploads/:id', () => 'image-bytes')
  }

  // handler(req) returns a body (200), {status, body}, or throws. ":name" segments become req.params.
  on(method, pattern, handler, options) {
    const names = []
    const re = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, n) => {
      names.push(n)
      return '([^/]+)'
    }) + '$')
    const opts = Object.assign({ auth: true }, options || {})
    this.routes.unshift({ method, re, names, handler: typeof handler === 'function' ? handler : () => handler, auth: opts.auth })
    return this
  }

  revokeTokens() {
    this.tokens.clear()
  }

  // Requests other than the login, as "METHOD /path?query".
  requests() {
    return this.calls.filter((c) => c.path !== '/api/v1/auth/login').map((c) => c.method + ' ' + c.path + (c.query ? '?' + c.query : ''))
  }

  callsTo(method, p) {
    return this.calls.filter((c) => c.method === method && c.path === p)
  }

  handle(options) {
    const url = options.url
    if (url.indexOf(BASE) !== 0) throw new Error('request outside apiBase: ' + url)
    const rest = url.slice(BASE.length)
    const [p, query] = rest.split('?')
    const headers = options.header || {}
    const call = {
      method: options.method || 'GET',
      path: p,
      query: query || '',
      body: options.data,
      headers,
    }
    this.calls.push(call)
    if (this.offline) return null
    const auth = (headers.Authorization || '').replace(/^Bearer /, '')
    for (const route of this.routes) {
      if (route.method !== call.method) continue
      const m = route.re.exec(p)
      if (!m) continue
      if (route.auth && !this.tokens.has(auth)) return envelope(401, 'token_invalid', '登录凭证无效，请重新登录')
      const params = {}
      route.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1])
      })
      const q = {}
      new URLSearchParams(query || '').forEach((v, k) => {
        q[k] = v
      })
      const out = route.handler({ params, query: q, body: options.data, headers, call })
      if (out && typeof out === 'object' && 'status' in out && 'body' in out) return out
      return { status: out === undefined ? 204 : 200, body: out === undefined ? '' : out }
    }
    return envelope(404, 'not_found', '请求的地址或记录不存在')
  }
}

// -- wx fakes ------------------------------------------------------------------------------------

function installWx(fake) {
  const storage = new Map()
  const state = {
    storage,
    modalAnswers: [], // queue of true/false (confirm or cancel); default: confirm
    modals: [],
    toasts: [],
    navigations: [],
    subscribeRequests: [],
    subscribeResult: null, // (tmplIds) => res; default: accept all
    subscribeError: null,
    loginCodes: 0,
    loginFails: false,
    scrolls: [],
    stopPullDown: 0,
    // Photos
    mediaQueue: [], // each wx.chooseMedia takes the next array of paths; empty queue: the user cancels
    chooseCalls: [], // the options of each wx.chooseMedia call
    uploads: [], // each wx.uploadFile: {filePath, name, auth}
    uploadFails: new Set(), // file paths whose wx.uploadFile fails like a network error
    downloads: [], // each wx.downloadFile url path
    phoneCalls: [],
    previews: [],
    // WeChat Pay
    paymentRequests: [], // each wx.requestPayment's options, callbacks left out
    paymentAnswers: [], // queue: 'ok' | 'cancel' | 'fail'; empty queue: 'ok'
    onPaid: null, // (options) => void, when a payment sheet succeeds (tests mark the payment paid here)
    clipboard: [],
    loadings: [],
  }
  const later = (fn) => setTimeout(fn, 0)
  Object.assign(global.wx, {
    request: jest.fn((options) => {
      later(() => {
        let res
        try {
          res = fake.handle(options)
        } catch (e) {
          res = envelope(500, 'internal_error', '服务器出错了，请稍后再试')
        }
        if (!res) {
          if (options.fail) options.fail({ errMsg: 'request:fail timeout' })
        } else if (options.success) {
          options.success({ statusCode: res.status, data: res.body, header: {} })
        }
        if (options.complete) options.complete()
      })
      return { abort() {} }
    }),
    login: jest.fn((options) => {
      later(() => {
        if (state.loginFails) {
          options.fail && options.fail({ errMsg: 'login:fail' })
        } else {
          state.loginCodes += 1
          options.success && options.success({ code: 'wx-code-' + state.loginCodes, errMsg: 'login:ok' })
        }
      })
    }),
    requestSubscribeMessage: jest.fn((options) => {
      state.subscribeRequests.push(options.tmplIds)
      later(() => {
        if (state.subscribeError) {
          options.fail && options.fail(state.subscribeError)
          return
        }
        const res = state.subscribeResult ? state.subscribeResult(options.tmplIds) : {}
        if (!state.subscribeResult) options.tmplIds.forEach((id) => { res[id] = 'accept' })
        res.errMsg = 'requestSubscribeMessage:ok'
        options.success && options.success(res)
      })
    }),
    chooseMedia: jest.fn((options) => {
      state.chooseCalls.push(options)
      const paths = state.mediaQueue.shift()
      later(() => {
        if (!paths) {
          options.fail && options.fail({ errMsg: 'chooseMedia:fail cancel' })
          return
        }
        const tempFiles = paths.slice(0, options.count).map((p) => ({ tempFilePath: p, size: 2048, fileType: 'image' }))
        options.success && options.success({ tempFiles, type: 'image', errMsg: 'chooseMedia:ok' })
      })
    }),
    // Goes through the fake API as POST with body {filePath, name}; the answer's body arrives as a JSON
    // string, as with the real wx.uploadFile.
    uploadFile: jest.fn((options) => {
      const progress = []
      state.uploads.push({ filePath: options.filePath, name: options.name, auth: (options.header || {}).Authorization || '' })
      later(() => {
        if (state.uploadFails.has(options.filePath)) {
          options.fail && options.fail({ errMsg: 'uploadFile:fail timeout' })
          return
        }
        progress.forEach((cb) => cb({ progress: 50, totalBytesSent: 1024, totalBytesExpectedToSend: 2048 }))
        let res
        try {
          res = fake.handle({ url: options.url, method: 'POST', header: options.header, data: { filePath: options.filePath, name: options.name } })
        } catch (e) {
          res = envelope(500, 'internal_error', '服务器出错了，请稍后再试')
        }
        if (!res) {
          options.fail && options.fail({ errMsg: 'uploadFile:fail timeout' })
          return
        }
        progress.forEach((cb) => cb({ progress: 100, totalBytesSent: 2048, totalBytesExpectedToSend: 2048 }))
        const data = typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
        options.success && options.success({ statusCode: res.status, data, errMsg: 'uploadFile:ok' })
      })
      return { onProgressUpdate: (cb) => progress.push(cb), abort() {} }
    }),
    downloadFile: jest.fn((options) => {
      later(() => {
        let res
        try {
          res = fake.handle({ url: options.url, method: 'GET', header: options.header })
        } catch (e) {
          res = envelope(500, 'internal_error', '服务器出错了，请稍后再试')
        }
        state.downloads.push(options.url.slice(BASE.length))
        if (!res) {
          options.fail && options.fail({ errMsg: 'downloadFile:fail timeout' })
          return
        }
        const name = options.url.split('/').pop()
        options.success && options.success({ statusCode: res.status, tempFilePath: 'wxfile://tmp/dl-' + name, errMsg: 'downloadFile:ok' })
      })
      return { onProgressUpdate() {}, abort() {} }
    }),
    requestPayment: jest.fn((options) => {
      const copy = {}
      Object.keys(options).forEach((k) => {
        if (typeof options[k] !== 'function') copy[k] = options[k]
      })
      state.paymentRequests.push(copy)
      const answer = state.paymentAnswers.length ? state.paymentAnswers.shift() : 'ok'
      later(() => {
        if (answer === 'ok') {
          if (state.onPaid) state.onPaid(copy)
          options.success && options.success({ errMsg: 'requestPayment:ok' })
        } else if (answer === 'cancel') {
          options.fail && options.fail({ errMsg: 'requestPayment:fail cancel' })
        } else {
          options.fail && options.fail({ errMsg: 'requestPayment:fail 系统繁忙' })
        }
        options.complete && options.complete()
      })
    }),
    setClipboardData: jest.fn((options) => {
      state.clipboard.push(options.data)
      later(() => options.success && options.success({ errMsg: 'setClipboardData:ok' }))
    }),
    makePhoneCall: jest.fn((o) => state.phoneCalls.push(o.phoneNumber)),
    previewImage: jest.fn((o) => state.previews.push(o)),
    showModal: jest.fn((options) => {
      state.modals.push(options)
      const answer = state.modalAnswers.length ? state.modalAnswers.shift() : true
      later(() => options.success && options.success({ confirm: answer, cancel: !answer }))
    }),
    showToast: jest.fn((options) => state.toasts.push(options.title)),
    showLoading: jest.fn((o) => state.loadings.push(o.title)),
    hideLoading: jest.fn(),
    navigateTo: jest.fn((o) => state.navigations.push(['navigateTo', o.url])),
    redirectTo: jest.fn((o) => state.navigations.push(['redirectTo', o.url])),
    reLaunch: jest.fn((o) => state.navigations.push(['reLaunch', o.url])),
    navigateBack: jest.fn(() => state.navigations.push(['navigateBack'])),
    setNavigationBarTitle: jest.fn(),
    stopPullDownRefresh: jest.fn(() => { state.stopPullDown += 1 }),
    pageScrollTo: jest.fn((o) => state.scrolls.push(o.selector)),
    getStorageSync: jest.fn((key) => (storage.has(key) ? storage.get(key) : '')),
    setStorageSync: jest.fn((key, value) => storage.set(key, JSON.parse(JSON.stringify(value)))),
    removeStorageSync: jest.fn((key) => storage.delete(key)),
  })
  return state
}

// A fresh fake API, fresh wx fakes and a clean api module. Call in beforeEach.
function setup() {
  api._reset()
  upload._reset()
  pay._reset()
  pay.settings.pollInterval = 1 // the product waits 1 s between polls
  const fake = new FakeApi()
  const wxState = installWx(fake)
  return { fake, wx: wxState }
}

// Lets queued fake responses and promise chains run to the end.
async function flush(rounds = 12) {
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}

// -- pages ---------------------------------------------------------------------------------------

// A page's definition runs once per test file (jest keeps the module loaded); each render is a new
// page instance.
const loaded = {}

function loadPage(rel) {
  if (!loaded[rel]) loaded[rel] = simulate.load(path.join(ROOT, rel), { rootPath: ROOT })
  const comp = simulate.render(loaded[rel])
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

function text(comp, selector) {
  const node = comp.querySelector(selector)
  return node ? node.dom.textContent.replace(/\s+/g, ' ').trim() : null
}

function exists(comp, selector) {
  return !!comp.querySelector(selector)
}

function all(comp, selector) {
  return comp.querySelectorAll(selector)
}

async function tap(comp, selector, detail) {
  const node = typeof selector === 'string' ? comp.querySelector(selector) : selector
  if (!node) throw new Error('nothing matches ' + selector)
  node.dispatchEvent('tap', detail ? { detail } : undefined)
  await flush()
}

// A component event other than tap/input (picker and switch "change", etc.).
async function fire(comp, selector, event, detail) {
  const node = typeof selector === 'string' ? comp.querySelector(selector) : selector
  if (!node) throw new Error('nothing matches ' + selector)
  node.dispatchEvent(event, { detail })
  await flush(2)
}

async function input(comp, selector, value) {
  const node = typeof selector === 'string' ? comp.querySelector(selector) : selector
  if (!node) throw new Error('nothing matches ' + selector)
  node.dispatchEvent('input', { detail: { value } })
  await flush(2)
}

// -- data builders -------------------------------------------------------------------------------

function house(id, overrides) {
  return Object.assign({
    id,
    community: { code: 'demo', name: '示例小区' },
    building: '1',
    unit: '1',
    room: String(100 + id),
    floor: 1,
    area_m2: '89.50',
    label: '1栋1单元' + (100 + id),
  }, overrides || {})
}

const STATUS_LABELS = { pending: '待审核', approved: '已通过', rejected: '未通过', unbound: '已解绑' }
const ROLE_LABELS = { owner: '业主', family: '家庭成员', tenant: '租户' }

function membership(id, overrides) {
  const o = overrides || {}
  const status = o.status || 'approved'
  const role = o.role || 'owner'
  return Object.assign({
    id,
    house: house(id),
    role,
    role_label: ROLE_LABELS[role],
    status,
    status_label: STATUS_LABELS[status],
    name: '张三',
    pending_reason: status === 'pending' ? '不在业主名册中' : null,
    reject_reason: null,
    created_at: '2026-11-23T10:05:00+08:00',
    reviewed_at: status === 'pending' ? null : '2026-11-23T11:30:00+08:00',
  }, o)
}

module.exports = {
  ROOT,
  BASE,
  api,
  config,
  envelope,
  setup,
  flush,
  loadPage,
  text,
  exists,
  all,
  tap,
  input,
  fire,
  house,
  membership,
}
