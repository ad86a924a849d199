const { setup, flush, api, config, envelope } = require('./helpers/env')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.on('GET', '/api/v1/me', () => ({ user: { id: 1 }, houses: [], staff: null }))
})

describe('token', () => {
  test('logs in with the wx.login code first, then sends the bearer token', async () => {
    const me = await api.get('/api/v1/me')
    expect(me.user.id).toBe(1)
    const [login, get] = fake.calls
    expect(login.method).toBe('POST')
    expect(login.path).toBe('/api/v1/auth/login')
    expect(login.body).toEqual({ code: 'wx-code-1' })
    expect(login.headers.Authorization).toBeUndefined()
    expect(get.headers.Authorization).toBe('Bearer tok-1')
    expect(get.headers['Content-Type']).toBe('application/json')
    expect(wxState.storage.get('wuye_token').token).toBe('tok-1')
  })

  test('reuses the stored token without logging in', async () => {
    fake.tokens.add('saved')
    wxState.storage.set('wuye_token', { token: 'saved', expires_at: '2099-01-01T00:00:00+08:00' })
    await api.get('/api/v1/me')
    expect(fake.loginCount).toBe(0)
    expect(fake.calls[0].headers.Authorization).toBe('Bearer saved')
  })

  test('does not send an expired stored token', async () => {
    fake.tokens.add('old')
    wxState.storage.set('wuye_token', { token: 'old', expires_at: '2020-01-01T00:00:00+08:00' })
    await api.get('/api/v1/me')
    expect(fake.loginCount).toBe(1)
    expect(fake.calls[1].headers.Authorization).toBe('Bearer tok-1')
  })

  test('uses "dev:<openid>" as the code when devOpenid is configured (sandbox)', async () => {
    config.devOpenid = 'demo-reception'
    try {
      await api.login()
    } finally {
      config.devOpenid = ''
    }
    expect(global.wx.login).not.toHaveBeenCalled()
    expect(fake.calls[0].body).toEqual({ code: 'dev:demo-reception' })
  })

  test('ensureLogin logs in once and exposes the session', async () => {
    fake.session.staff = { id: 9, name: '刘芳' }
    const [a, b] = await Promise.all([api.ensureLogin(), api.ensureLogin()])
    expect(a).toBe(b)
    expect(a.staff.name).toBe('刘芳')
    expect(api.getSession().staff.id).toBe(9)
    await api.ensureLogin()
    expect(fake.loginCount).toBe(1)
  })
})

describe('401', () => {
  test('logs in again once and retries the request once', async () => {
    fake.tokens.add('stale')
    wxState.storage.set('wuye_token', { token: 'stale', expires_at: '2099-01-01T00:00:00+08:00' })
    fake.revokeTokens()
    const me = await api.get('/api/v1/me')
    expect(me.user.id).toBe(1)
    expect(fake.calls.map((c) => c.method + ' ' + c.path)).toEqual([
      'GET /api/v1/me',
      'POST /api/v1/auth/login',
      'GET /api/v1/me',
    ])
    expect(fake.calls[0].headers.Authorization).toBe('Bearer stale')
    expect(fake.calls[2].headers.Authorization).toBe('Bearer tok-1')
  })

  test('gives up after one retry', async () => {
    fake.on('GET', '/api/v1/me', () => envelope(401, 'token_invalid', '登录凭证无效，请重新登录'), { auth: false })
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 401, code: 'token_invalid', message: '登录凭证无效，请重新登录' })
    // first login (no token yet), request, one re-login, one retry
    expect(fake.loginCount).toBe(2)
    expect(fake.callsTo('GET', '/api/v1/me')).toHaveLength(2)
  })

  test('concurrent 401s share one re-login', async () => {
    fake.tokens.add('stale')
    wxState.storage.set('wuye_token', { token: 'stale', expires_at: '2099-01-01T00:00:00+08:00' })
    fake.revokeTokens()
    fake.on('GET', '/api/v1/me/houses', () => [])
    await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/me/houses')])
    expect(fake.loginCount).toBe(1)
  })
})

describe('errors', () => {
  test('maps the error envelope to an ApiError with code, fields and status', async () => {
    fake.on('POST', '/api/v1/me/houses', () => envelope(422, 'validation_error', '提交的内容有误，请检查后重试', { phone: ['手机号格式有误（11 位手机号）'] }))
    const err = await api.post('/api/v1/me/houses', { phone: '1' }).catch((e) => e)
    expect(err).toBeInstanceOf(api.ApiError)
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toBe('提交的内容有误，请检查后重试')
    expect(err.code).toBe('validation_error')
    expect(err.status).toBe(422)
    expect(err.fields).toEqual({ phone: ['手机号格式有误（11 位手机号）'] })
  })

  test('a conflict keeps its code', async () => {
    fake.on('POST', '/api/v1/me/houses', () => envelope(409, 'already_pending', '已提交绑定申请，请等待物业审核'))
    await expect(api.post('/api/v1/me/houses', {})).rejects.toMatchObject({ status: 409, code: 'already_pending', fields: {} })
  })

  test('a response that is not an envelope gets a Chinese message', async () => {
    fake.on('GET', '/api/v1/me', () => ({ status: 502, body: '<html>Bad Gateway</html>' }))
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 502, code: 'http_502', message: '服务器开小差了，请稍后重试' })
  })

  test('a network failure says so in Chinese', async () => {
    await api.login()
    fake.offline = true
    const err = await api.get('/api/v1/me').catch((e) => e)
    expect(err.message).toBe('网络不给力，请稍后重试')
    expect(err.code).toBe('network_error')
    expect(err.status).toBe(0)
  })

  test('a network failure during login says so too', async () => {
    fake.offline = true
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ message: '网络不给力，请稍后重试' })
  })

  test('a failed wx.login is reported', async () => {
    wxState.loginFails = true
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ code: 'wx_login_failed', message: '微信登录失败，请稍后重试' })
  })
})

describe('requests', () => {
  test('204 resolves with null; DELETE sends no body', async () => {
    fake.on('DELETE', '/api/v1/me/houses/:id', () => undefined)
    await expect(api.del('/api/v1/me/houses/3')).resolves.toBeNull()
    const call = fake.callsTo('DELETE', '/api/v1/me/houses/3')[0]
    expect(call.body).toBeUndefined()
  })

  test('query parameters are encoded and empty ones dropped', async () => {
    fake.on('GET', '/api/v1/staff/bindings', (req) => ({ items: [], total: 0, query: req.query }))
    const res = await api.get('/api/v1/staff/bindings', { status: 'pending', page: 2, per_page: 20, q: '', x: null })
    expect(res.query).toEqual({ status: 'pending', page: '2', per_page: '20' })
    expect(fake.requests()).toEqual(['GET /api/v1/staff/bindings?status=pending&page=2&per_page=20'])
  })

  test('loadMe refreshes the session', async () => {
    fake.on('GET', '/api/v1/me', () => ({ user: { id: 1, name: '张三' }, houses: [{ id: 5 }], staff: null }))
    await api.loadMe()
    expect(api.getSession().houses).toEqual([{ id: 5 }])
  })

  test('logout clears the token', async () => {
    fake.on('POST', '/api/v1/auth/logout', () => undefined)
    await api.login()
    await api.logout()
    expect(wxState.storage.has('wuye_token')).toBe(false)
    await flush()
  })
})
