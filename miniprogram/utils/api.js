// Request wrapper for the 物业服务中心 API.
//
// - Logs in with wx.login (POST /api/v1/auth/login) and keeps the token in storage.
// - Sends "Authorization: Bearer <token>" on every request.
// - On a 401: logs in again once and retries the request once.
// - Error envelopes {"error": {code, message, fields}} become an ApiError whose message is the
//   Chinese text to show; a network failure becomes "网络不给力，请稍后重试".

const config = require('../config')
const { parseTime } = require('./format')

const TOKEN_KEY = 'wuye_token'
const NETWORK_MESSAGE = '网络不给力，请稍后重试'
const LOGIN_MESSAGE = '微信登录失败，请稍后重试'

class ApiError extends Error {
  constructor(message, { code = 'error', status = 0, fields = {} } = {}) {
    super(message)
    this.message = message // kept explicit: transpiled Error subclasses may drop it
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.fields = fields || {}
  }
}

// -- token ---------------------------------------------------------------------------------------

function getToken() {
  let saved = null
  try {
    saved = wx.getStorageSync(TOKEN_KEY)
  } catch (e) {
    saved = null
  }
  if (!saved || !saved.token) return ''
  const expires = parseTime(saved.expires_at)
  // Expired (with a minute to spare): do not send it, log in first.
  if (!isNaN(expires) && expires - 60000 <= Date.now()) return ''
  return saved.token
}

function setToken(token, expiresAt) {
  try {
    wx.setStorageSync(TOKEN_KEY, { token, expires_at: expiresAt || '' })
  } catch (e) {
    // Storage full or unavailable: the token still lives for this request chain via the retry.
  }
}

function clearToken() {
  try {
    wx.removeStorageSync(TOKEN_KEY)
  } catch (e) {
    // ignore
  }
}

// -- transport -----------------------------------------------------------------------------------

function queryString(params) {
  if (!params) return ''
  const parts = []
  Object.keys(params).forEach((key) => {
    const value = params[key]
    if (value === undefined || value === null || value === '') return
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(value))
  })
  return parts.length ? '?' + parts.join('&') : ''
}

// One wx.request; resolves with {statusCode, data} for any HTTP answer, rejects on network failure.
function send(method, path, data, token) {
  return new Promise((resolve, reject) => {
    const header = { 'Content-Type': 'application/json' }
    if (token) header.Authorization = 'Bearer ' + token
    const options = {
      url: config.apiBase + path,
      method,
      header,
      timeout: config.timeout,
      dataType: 'json',
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
      fail: () => reject(new ApiError(NETWORK_MESSAGE, { code: 'network_error' })),
    }
    if (data !== undefined && method !== 'GET' && method !== 'DELETE') options.data = data
    wx.request(options)
  })
}

function fallbackMessage(status) {
  if (status >= 500) return '服务器开小差了，请稍后重试'
  if (status === 429) return '操作太频繁，请稍后再试'
  if (status === 404) return '请求的内容不存在'
  if (status === 403) return '没有权限进行此操作'
  if (status === 401) return '登录已失效，请重新进入小程序'
  return '请求失败（' + status + '），请稍后重试'
}

// HTTP answer -> data, or throw ApiError from the error envelope.
function unwrap(res) {
  const status = res.statusCode
  let body = res.data
  if (typeof body === 'string' && body) {
    try {
      body = JSON.parse(body)
    } catch (e) {
      // not JSON (e.g. a proxy's HTML error page)
    }
  }
  if (status >= 200 && status < 300) {
    return status === 204 || body === '' ? null : body
  }
  const envelope = body && typeof body === 'object' && body.error ? body.error : null
  throw new ApiError(envelope && envelope.message ? envelope.message : fallbackMessage(status), {
    code: envelope && envelope.code ? envelope.code : 'http_' + status,
    status,
    fields: envelope && envelope.fields ? envelope.fields : {},
  })
}

// -- login ---------------------------------------------------------------------------------------

let loginPromise = null // the login in flight, shared by everyone who needs one
let sessionPromise = null // the first successful login of this launch (for pages that need user/staff)
let session = null // {user, houses, staff}, from the last login or GET /me

function wxLoginCode() {
  if (config.devOpenid) return Promise.resolve('dev:' + config.devOpenid)
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new ApiError(LOGIN_MESSAGE, { code: 'wx_login_failed' }))),
      fail: () => reject(new ApiError(LOGIN_MESSAGE, { code: 'wx_login_failed' })),
    })
  })
}

// Log in now (one login at a time: concurrent callers share it). Resolves with the login payload.
function login() {
  if (loginPromise) return loginPromise
  const p = wxLoginCode()
    .then((code) => send('POST', '/api/v1/auth/login', { code }, ''))
    .then(unwrap)
    .then((payload) => {
      setToken(payload.token, payload.expires_at)
      session = { user: payload.user, houses: payload.houses || [], staff: payload.staff || null }
      return payload
    })
  loginPromise = p
  const clear = () => {
    if (loginPromise === p) loginPromise = null
  }
  p.then(clear, clear)
  return p
}

// The session of this launch: logs in on first use (app.js calls it on launch), then reuses it.
// A failed login is not cached, so the next call tries again.
function ensureLogin() {
  if (!sessionPromise) {
    sessionPromise = login().then(
      () => session,
      (err) => {
        sessionPromise = null
        throw err
      },
    )
  }
  return sessionPromise
}

function getSession() {
  return session
}

// GET /api/v1/me, which also refreshes the cached session.
function loadMe() {
  return request('GET', '/api/v1/me').then((me) => {
    session = { user: me.user, houses: me.houses || [], staff: me.staff || null }
    return session
  })
}

// -- requests ------------------------------------------------------------------------------------

// Runs send(token) with a usable token: logs in first when there is none; on a 401 logs in again once
// (unless someone already did) and runs send once more. send(token) resolves with {statusCode, ...}.
// Used by request() and by wx.uploadFile / wx.downloadFile wrappers (utils/upload.js).
function withToken(sendFn) {
  const waitForLogin = loginPromise ? loginPromise.catch(() => null) : Promise.resolve()
  return waitForLogin
    .then(() => (getToken() ? null : login()))
    .then(() => {
      const token = getToken()
      return sendFn(token).then((res) => {
        if (res.statusCode !== 401) return res
        const relogin = getToken() && getToken() !== token ? Promise.resolve() : login()
        return relogin.then(() => sendFn(getToken()))
      })
    })
}

function request(method, path, data, options) {
  const opts = options || {}
  const url = path + queryString(opts.query)
  return withToken((token) => send(method, url, data, token)).then(unwrap)
}

function logout() {
  return request('POST', '/api/v1/auth/logout').then(
    () => clearToken(),
    (err) => {
      clearToken()
      throw err
    },
  )
}

// Tests only: forget the in-memory login state.
function _reset() {
  loginPromise = null
  sessionPromise = null
  session = null
}

module.exports = {
  ApiError,
  NETWORK_MESSAGE,
  request,
  withToken,
  unwrap,
  get: (path, query) => request('GET', path, undefined, { query }),
  post: (path, data) => request('POST', path, data === undefined ? {} : data),
  patch: (path, data) => request('PATCH', path, data),
  del: (path) => request('DELETE', path),
  login,
  ensureLogin,
  getSession,
  loadMe,
  logout,
  getToken,
  clearToken,
  _reset,
}
