package fault

import "net/http"

// statuses is the one table from a kind to its HTTP status and the Chinese
// title people read: the partner API's problems and the staff console's
// error pages both answer by it.
var statuses = map[Kind]struct {
	status int
	title  string
}{
	Malformed:            {http.StatusBadRequest, "请求无法解析"},
	Unauthenticated:      {http.StatusUnauthorized, "身份验证失败"},
	Forbidden:            {http.StatusForbidden, "无权访问"},
	NotFound:             {http.StatusNotFound, "未找到"},
	MethodNotAllowed:     {http.StatusMethodNotAllowed, "不支持该请求方法"},
	Timeout:              {http.StatusRequestTimeout, "请求体接收超时"},
	Conflict:             {http.StatusConflict, "与业务件当前状态冲突"},
	Gone:                 {http.StatusGone, "该地址已停用"},
	TooLarge:             {http.StatusRequestEntityTooLarge, "请求体过大"},
	UnsupportedMediaType: {http.StatusUnsupportedMediaType, "不支持的内容类型"},
	Invalid:              {http.StatusUnprocessableEntity, "申请未通过校验"},
	RateLimited:          {http.StatusTooManyRequests, "请求过于频繁"},
	Internal:             {http.StatusInternalServerError, "服务器内部错误"},
	Unavailable:          {http.StatusServiceUnavailable, "服务暂不可用"},
}

// Status is the kind's HTTP status; an unknown kind is a 500.
func (k Kind) Status() int {
	if s, ok := statuses[k]; ok {
		return s.status
	}
	return http.StatusInternalServerError
}

// Title is the kind's Chinese title, used where an error names none.
func (k Kind) Title() string {
	if s, ok := statuses[k]; ok {
		return s.title
	}
	return statuses[Internal].title
}
