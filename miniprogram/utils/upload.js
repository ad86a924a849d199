// Photos: choose (wx.chooseMedia), upload (wx.uploadFile -> POST /api/v1/uploads) and show uploaded
// photos (wx.downloadFile with the Authorization header: <image src> cannot send headers).
//
// Uploads and downloads go through api.withToken(), so they log in first when needed and, on a 401,
// log in again once and retry once, like every other request.
//
// photoMethods: methods shared by pages with a photo picker (repair report, worker completion). They keep
// `photos` in the page data: [{key, path, status: waiting|uploading|done|failed, progress, id, error}],
// and upload one photo at a time (on a weak network one upload at a time finishes soonest).

const api = require('./api')
const config = require('../config')

const MAX_PHOTOS = 9
const UPLOAD_PATH = '/api/v1/uploads'
const LOAD_FAILED = '图片加载失败'

// -- upload ---------------------------------------------------------------------------------------

function uploadOnce(filePath, token, onProgress) {
  return new Promise((resolve, reject) => {
    const header = {}
    if (token) header.Authorization = 'Bearer ' + token
    const task = wx.uploadFile({
      url: config.apiBase + UPLOAD_PATH,
      filePath,
      name: 'file',
      header,
      timeout: config.uploadTimeout || 60000,
      // res.data is the response body as a string; api.unwrap parses it.
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
      fail: () => reject(new api.ApiError(api.NETWORK_MESSAGE, { code: 'network_error' })),
    })
    if (onProgress && task && typeof task.onProgressUpdate === 'function') {
      task.onProgressUpdate((p) => onProgress(p && typeof p.progress === 'number' ? p.progress : 0))
    }
  })
}

// Upload one local image; resolves with the upload ({id, content_type, size, url}).
function uploadPhoto(filePath, onProgress) {
  return api.withToken((token) => uploadOnce(filePath, token, onProgress)).then(api.unwrap)
}

// -- download -------------------------------------------------------------------------------------

const downloaded = {} // upload id -> local temp path (valid while the mini-program runs)

function downloadOnce(url, token) {
  return new Promise((resolve, reject) => {
    const header = {}
    if (token) header.Authorization = 'Bearer ' + token
    wx.downloadFile({
      url,
      header,
      timeout: config.timeout,
      success: (res) => resolve({ statusCode: res.statusCode, tempFilePath: res.tempFilePath }),
      fail: () => reject(new api.ApiError(LOAD_FAILED, { code: 'network_error' })),
    })
  })
}

// GET /api/v1/uploads/{id} into a temp file; resolves with its path.
function downloadPhoto(id) {
  if (downloaded[id]) return Promise.resolve(downloaded[id])
  return api.withToken((token) => downloadOnce(config.apiBase + UPLOAD_PATH + '/' + id, token)).then((res) => {
    if (res.statusCode >= 200 && res.statusCode < 300 && res.tempFilePath) {
      downloaded[id] = res.tempFilePath
      return res.tempFilePath
    }
    throw new api.ApiError(res.statusCode === 404 ? '图片不存在或无权查看' : LOAD_FAILED, { status: res.statusCode })
  })
}

// Show uploaded photos: sets data[key] = [{id, path, status: loading|ok|failed}] and fills them in one by one.
function loadRemotePhotos(page, key, ids) {
  const list = (ids || []).map((id) => ({ id, path: downloaded[id] || '', status: downloaded[id] ? 'ok' : 'loading' }))
  page.setData({ [key]: list })
  let chain = Promise.resolve()
  list.forEach((item, index) => {
    if (item.status === 'ok') return
    chain = chain.then(() =>
      downloadPhoto(item.id).then(
        (path) => setRemote(page, key, index, item.id, { path, status: 'ok' }),
        () => setRemote(page, key, index, item.id, { status: 'failed' }),
      ),
    )
  })
  return chain
}

function setRemote(page, key, index, id, patch) {
  const current = page.data[key] || []
  if (!current[index] || current[index].id !== id) return // the list was replaced meanwhile
  const update = {}
  Object.keys(patch).forEach((k) => {
    update[key + '[' + index + '].' + k] = patch[k]
  })
  page.setData(update)
}

// -- choose ---------------------------------------------------------------------------------------

// Up to `count` images (compressed), from the album or the camera. Resolves [] when the user cancels.
function chooseImages(count) {
  return new Promise((resolve, reject) => {
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sizeType: ['compressed'],
      sourceType: ['album', 'camera'],
      success: (res) => resolve(((res && res.tempFiles) || []).map((f) => f.tempFilePath).filter(Boolean)),
      fail: (err) => {
        if (err && /cancel/.test(err.errMsg || '')) resolve([])
        else reject(new api.ApiError('无法选择照片，请检查相册和相机权限', { code: 'choose_failed' }))
      },
    })
  })
}

// -- photo picker methods (mixed into a page's methods) ---------------------------------------------

let keySeq = 0

const photoMethods = {
  onAddPhoto() {
    const left = MAX_PHOTOS - this.data.photos.length
    if (left <= 0) {
      wx.showToast({ title: '最多 ' + MAX_PHOTOS + ' 张照片', icon: 'none' })
      return Promise.resolve()
    }
    return chooseImages(left)
      .then((paths) => {
        if (!paths.length) return null
        const added = paths.slice(0, left).map((path) => {
          keySeq += 1
          return { key: 'p' + keySeq, path, status: 'waiting', progress: 0, id: 0, error: '' }
        })
        this.setData({ photos: this.data.photos.concat(added), photoError: '' })
        return this.uploadQueue()
      })
      .catch((err) => wx.showToast({ title: err.message, icon: 'none' }))
  },

  // Upload waiting photos one at a time; resolves when none is left waiting.
  uploadQueue() {
    if (this.photoQueue) return this.photoQueue
    const next = () => {
      const item = this.data.photos.find((p) => p.status === 'waiting')
      if (!item) {
        this.photoQueue = null
        return Promise.resolve()
      }
      this.setPhoto(item.key, { status: 'uploading', progress: 0, error: '' })
      return uploadPhoto(item.path, (progress) => this.setPhoto(item.key, { progress }))
        .then(
          (upload) => this.setPhoto(item.key, { status: 'done', progress: 100, id: upload.id }),
          (err) => this.setPhoto(item.key, { status: 'failed', error: err.message || '上传失败' }),
        )
        .then(next)
    }
    this.photoQueue = next()
    return this.photoQueue
  },

  setPhoto(key, patch) {
    const index = this.data.photos.findIndex((p) => p.key === key)
    if (index < 0) return // removed meanwhile
    const update = {}
    Object.keys(patch).forEach((k) => {
      update['photos[' + index + '].' + k] = patch[k]
    })
    this.setData(update)
  },

  onRetryPhoto(e) {
    this.setPhoto(e.currentTarget.dataset.key, { status: 'waiting', error: '' })
    this.setData({ photoError: '' })
    return this.uploadQueue()
  },

  onRemovePhoto(e) {
    const key = e.currentTarget.dataset.key
    this.setData({ photos: this.data.photos.filter((p) => p.key !== key), photoError: '' })
  },

  onPreviewPhoto(e) {
    const urls = this.data.photos.map((p) => p.path)
    wx.previewImage({ urls, current: e.currentTarget.dataset.path })
  },

  // Upload ids of the photos that made it, in the order shown.
  uploadedPhotoIds() {
    return this.data.photos.filter((p) => p.status === 'done').map((p) => p.id)
  },

  // Why the form cannot be sent yet because of its photos, or ''.
  photoProblem() {
    const photos = this.data.photos
    if (photos.some((p) => p.status === 'waiting' || p.status === 'uploading')) return '照片还在上传，请稍候再提交'
    if (photos.some((p) => p.status === 'failed')) return '有照片上传失败，请点“重试”或删除后再提交'
    return ''
  },
}

// Tests only.
function _reset() {
  Object.keys(downloaded).forEach((k) => delete downloaded[k])
}

module.exports = {
  MAX_PHOTOS,
  uploadPhoto,
  downloadPhoto,
  loadRemotePhotos,
  chooseImages,
  photoMethods,
  _reset,
}
