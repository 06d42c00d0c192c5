package registerdata

import "mortgaged/mortgage"

// The fixed tables the demo generator draws from. Street names are made up
// to sound like Qiqihar's; any match with a real address is chance.

// district is a county-level division of Qiqihar (GB/T 2260 code).
type district struct {
	code    string
	name    string
	town    string // seat town of a county, written before the street
	place   string // issuing place on certificates
	weight  int    // share of the register, roughly by population
	streets []string
}

// city is the prefecture-level place certificates of the city districts name.
const city = "齐齐哈尔市"

var districts = []district{
	{"230202", "龙沙区", "", city, 20, []string{"卜奎大街", "龙华路", "公园路", "永安大街", "中华东路", "民航路", "南苑路"}},
	{"230203", "建华区", "", city, 18, []string{"新明大街", "建华路", "文化大街", "光荣南路", "新华路", "中华西路"}},
	{"230204", "铁锋区", "", city, 16, []string{"站前大街", "龙华北路", "展览馆路", "红岸大街", "北局宅街", "光荣北路"}},
	{"230205", "昂昂溪区", "", city, 3, []string{"罗西大街", "榆树屯路", "新兴大街"}},
	{"230206", "富拉尔基区", "", city, 8, []string{"向阳大街", "和平路", "红宝石路", "沿江路", "钢厂路"}},
	{"230207", "碾子山区", "", city, 2, []string{"华安大街", "富强路", "友谊路"}},
	{"230208", "梅里斯达斡尔族区", "", city, 2, []string{"梅里斯大街", "雅尔塞路", "达呼店路"}},
	{"230221", "龙江县", "龙江镇", "龙江县", 4, []string{"胜利大街", "兴隆路", "新华街"}},
	{"230223", "依安县", "依安镇", "依安县", 3, []string{"通达街", "兴安路", "繁荣大街"}},
	{"230224", "泰来县", "泰来镇", "泰来县", 3, []string{"泰兴街", "文化路", "东风大街"}},
	{"230225", "甘南县", "甘南镇", "甘南县", 3, []string{"兴十四路", "中央大街", "团结路"}},
	{"230227", "富裕县", "富裕镇", "富裕县", 3, []string{"繁荣街", "富裕大街", "育才路"}},
	{"230229", "克山县", "克山镇", "克山县", 3, []string{"北兴大街", "中央街", "文明路"}},
	{"230230", "克东县", "克东镇", "克东县", 2, []string{"东兴街", "二克山路", "建设街"}},
	{"230231", "拜泉县", "拜泉镇", "拜泉县", 3, []string{"兴华街", "民主街", "东升路"}},
	{"230281", "讷河市", "", "讷河市", 6, []string{"雨亭大街", "通江路", "嫩江大街", "团结街"}},
}

// court is the basic people's court of the district, which seizes property there.
func (d *district) court() string {
	if d.place == city {
		return city + d.name + "人民法院"
	}
	return d.name + "人民法院"
}

// Common surnames, most common first; the generator favours the front.
var surnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")

// Characters common in given names.
var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅志新宇浩鑫博欣怡佳晨雪丹凤春海波宁斌峰龙东亮成林瑞悦婷昊琳晓莉萍淑珍凯俊鹏")

// Parts of company names.
var (
	companyPrefixes   = []string{"齐齐哈尔", "鹤城", "卜奎", "嫩江", "扎龙", "黑土地", "北疆", "龙沙"}
	companyCores      = []string{"恒泰", "鑫源", "宏达", "瑞丰", "金鼎", "华信", "昌盛", "永兴", "广源", "东升", "福瑞", "兴业"}
	companyIndustries = []string{"商贸有限公司", "餐饮管理有限公司", "物流有限公司", "机械制造有限公司",
		"农业发展有限公司", "建筑工程有限公司", "科技有限公司", "医药连锁有限公司"}
	developerKinds = []string{"房地产开发有限公司", "置业有限公司"}
)

// Public-interest facilities that cannot be mortgaged (学校、医院、养老机构).
var facilities = []struct{ name, building string }{
	{"第%s中学", "教学楼"},
	{"第%s小学", "教学楼"},
	{"第%s幼儿园", "保教楼"},
	{"第%s社会福利院", "养老楼"},
}

// Recording officers (登簿人) of past registrations.
var recordingOfficers = []string{"王丽", "刘洋", "陈静", "赵磊", "孙悦", "周丹"}

// Standard wording of the scope of guarantee (担保范围).
const standardScope = "主债权及利息、违约金、损害赔偿金和实现债权的费用"

// Demo partners. Their credit codes are synthetic: valid check characters,
// no real organisation.
var demoPartners = []Partner{
	{ID: "lj-bank", Kind: "bank", Name: "龙江示范银行股份有限公司齐齐哈尔分行", CreditCode: creditCode("91230202MA1B7K9Q4")},
	{ID: "hc-rcb", Kind: "bank", Name: "鹤城农村商业银行股份有限公司", CreditCode: creditCode("91230200MA1C2D8F5")},
	{ID: "qqhr-fund", Kind: "fund_centre", Name: "齐齐哈尔市住房公积金管理中心", CreditCode: creditCode("12230200414035627")},
}

// Which partner holds each successive existing mortgage: the demo bank
// (first) holds three in seven, so every block of the register has some.
var mortgageePattern = []int{0, 1, 0, 2, 0, 1, 2}

// creditCode completes a fixed 17-character stem; a bad constant is a
// programming error.
var creditCode = mortgage.MustCreditCode

// chineseNumber writes 1–99 in Chinese numerals, as school names do.
func chineseNumber(n int) string {
	digits := []rune("零一二三四五六七八九")
	switch {
	case n < 10:
		return string(digits[n])
	case n < 20:
		if n == 10 {
			return "十"
		}
		return "十" + string(digits[n%10])
	default:
		s := string(digits[n/10]) + "十"
		if n%10 != 0 {
			s += string(digits[n%10])
		}
		return s
	}
}
